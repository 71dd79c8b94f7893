import { defineTask } from '../task';

/** Does nothing: the baseline for the isolation benchmark and a health probe. */
export const noopTask = defineTask((): null => null);
