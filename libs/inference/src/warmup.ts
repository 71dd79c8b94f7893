import { getNlp } from './builtin/nlp';

/** Loads the builtin engine's model now (it is otherwise loaded on first use). */
export async function warmupEngines(): Promise<void> {
  await getNlp();
}
