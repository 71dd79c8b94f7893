/** Injection token of the gateway's KeyManager (`@Inject(KEY_MANAGER) keys: KeyManager`). */
export const KEY_MANAGER = Symbol('KEY_MANAGER');
