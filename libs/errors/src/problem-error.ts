import { ErrorCode, ERROR_CODE_DOCS, type ErrorCodeDoc } from './codes';

export interface FieldError {
  field: string;
  code: string;
  message: string;
}

/** RFC 9457 problem document as the API returns it. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  errors?: FieldError[];
  instance?: string;
  requestId?: string;
}

/** Throw anywhere; the gateway turns it into application/problem+json. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
    this.name = 'ProblemError';
  }

  static notFound(what = 'resource'): ProblemError {
    return new ProblemError(404, ErrorCode.not_found, `No such ${what}`);
  }

  static validation(errors: FieldError[], detail?: string): ProblemError {
    return new ProblemError(
      400,
      ErrorCode.validation_failed,
      detail ?? errors.map((e) => `${e.field}: ${e.message}`).join('; '),
      errors,
    );
  }

  toProblem(): ProblemDocument {
    return {
      type: `https://hearth.dev/problems/${this.code}`,
      // A code cast in from outside the enum still gets a readable title.
      title: (ERROR_CODE_DOCS[this.code] as ErrorCodeDoc | undefined)?.title ?? titleFromCode(this.code),
      status: this.status,
      detail: this.detail,
      code: this.code,
      ...(this.errors?.length ? { errors: this.errors } : {}),
    };
  }
}

function titleFromCode(code: string): string {
  const words = code.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
