// solc-js ships no type declarations; this is the part of its API the build script uses.
declare module 'solc' {
  export function compile(
    input: string,
    callbacks?: { import?: (path: string) => { contents: string } | { error: string } },
  ): string;
  export function version(): string;
}
