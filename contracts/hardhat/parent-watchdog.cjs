// Preloaded (node -r) into the dev-chain process: its stdin is a pipe from the process that started
// it, so EOF means that parent is gone (even if it was SIGKILLed) and the chain must not outlive it.
'use strict';
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
