/**
 * Domain errors. These classes, and nothing else, decide HTTP status codes (see http.ts).
 * Messages of errors below 500 are shown to the caller; 5xx bodies are always generic.
 */
export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequestError extends AppError {
  constructor(message: string, details?: unknown, code = 'bad_request') {
    super(400, code, message, details);
  }
}

export class ValidationError extends AppError {
  constructor(message: string, details?: unknown) {
    super(422, 'validation_failed', message, details);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'Authentication required') {
    super(401, 'unauthorized', message);
  }
}

export class PaymentRequiredError extends AppError {
  constructor(message: string, code = 'payment_required') {
    super(402, code, message);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'You do not have permission to do this', code = 'forbidden') {
    super(403, code, message);
  }
}

export class NotFoundError extends AppError {
  constructor(message = 'Not found', code = 'not_found') {
    super(404, code, message);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, code = 'conflict') {
    super(409, code, message);
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(message = 'Request body is too large') {
    super(413, 'payload_too_large', message);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(message = 'Send the request body as application/json') {
    super(415, 'unsupported_media_type', message);
  }
}

/** An upstream provider (Stripe, GitHub, GitLab) failed or answered unexpectedly. */
export class UpstreamError extends AppError {
  constructor(message: string, code = 'upstream_error') {
    super(502, code, message);
  }
}

/** Temporary failure the sender should retry (e.g. events not yet on the bus). */
export class ServiceUnavailableError extends AppError {
  constructor(message = 'Temporarily unavailable, please retry') {
    super(503, 'unavailable', message);
  }
}
