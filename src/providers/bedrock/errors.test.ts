import { describe, expect, it } from 'vitest';
import { classifyBedrockError, errorMessage, errorName, httpError } from './errors.js';

describe('errorName', () => {
  it.each<[string | undefined, string | undefined]>([
    ['ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/', 'ThrottlingException'],
    ['UnrecognizedClientException', 'UnrecognizedClientException'],
    ['com.amazon.coral.service#UnrecognizedClientException', 'UnrecognizedClientException'],
    ['', undefined],
    [undefined, undefined],
  ])('%s → %s', (raw, name) => expect(errorName(raw)).toBe(name));
});

describe('httpError: the status to answer and the Anthropic error type', () => {
  it.each<[number, string | undefined, number, string]>([
    [429, 'ThrottlingException', 429, 'rate_limit_error'],
    [400, 'ServiceQuotaExceededException', 429, 'rate_limit_error'],
    [429, 'ModelNotReadyException', 503, 'overloaded_error'],
    [503, 'ServiceUnavailableException', 503, 'overloaded_error'],
    [403, 'AccessDeniedException', 403, 'permission_error'],
    [403, 'UnrecognizedClientException', 403, 'authentication_error'],
    [403, 'InvalidSignatureException', 403, 'authentication_error'],
    [403, 'ExpiredTokenException', 403, 'authentication_error'],
    [400, 'ValidationException', 400, 'invalid_request_error'],
    [404, 'ResourceNotFoundException', 404, 'not_found_error'],
    [408, 'ModelTimeoutException', 408, 'timeout_error'],
    [424, 'ModelErrorException', 424, 'api_error'],
    [500, 'InternalServerException', 500, 'api_error'],
    // unknown names fall back to the status
    [400, undefined, 400, 'invalid_request_error'],
    [503, 'SomethingNew', 503, 'overloaded_error'],
    [502, undefined, 502, 'api_error'],
  ])('%i %s → %i %s', (status, name, outStatus, type) => {
    expect(httpError(status, name)).toEqual({ status: outStatus, type });
  });
});

describe('classifyBedrockError', () => {
  it.each<[number, string]>([
    [429, 'rate_limited'],
    [503, 'overloaded'],
    [529, 'overloaded'],
    [403, 'unauthorized'],
    [401, 'unauthorized'],
    [500, 'server_error'],
    [502, 'server_error'],
    [408, 'server_error'],
    [424, 'server_error'],
    [400, 'client_error'],
    [404, 'client_error'],
    [413, 'client_error'],
  ])('%i → %s', (status, cls) => expect(classifyBedrockError(status)).toBe(cls));
});

describe('errorMessage', () => {
  it.each<[unknown, string | undefined]>([
    [{ message: 'Too many requests' }, 'Too many requests'],
    [
      { Message: 'Authentication failed: Please make sure your API Key is valid.' },
      'Authentication failed: Please make sure your API Key is valid.',
    ],
    [{ message: '' }, undefined],
    [{}, undefined],
    [null, undefined],
    ['text', undefined],
  ])('%j → %s', (body, message) => expect(errorMessage(body)).toBe(message));
});
