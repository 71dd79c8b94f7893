import winkPackage from 'wink-nlp/package.json';
import modelPackage from 'wink-eng-lite-web-model/package.json';

export const BUILTIN_MODEL = `wink-eng-lite-web-model@${modelPackage.version}`;
export const BUILTIN_ENGINE_VERSION = `wink-nlp@${winkPackage.version}+${BUILTIN_MODEL}`;
