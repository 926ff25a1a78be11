/**
 * Calls an application hook so that a throw or a rejection becomes
 * 5 SERVER_ERROR for the client and an ERR line for the operator, and a
 * synchronous answer stays synchronous (the QoS 0 fast path allocates no Promise).
 */
import { Status } from '../../shared/status';
import type { HandlerContext } from './context';
import type { MaybePromise } from '../hooks';

export function callHook<T>(ctx: HandlerContext, name: string, call: () => MaybePromise<T>, onError: T): MaybePromise<T> {
  let result: MaybePromise<T>;
  try {
    result = call();
  } catch (error) {
    ctx.log.error(`${name} hook threw: ${(error as Error)?.stack ?? error}`);
    return onError;
  }
  if (result instanceof Promise) {
    return result.catch((error: unknown) => {
      ctx.log.error(`${name} hook rejected: ${(error as Error)?.stack ?? error}`);
      return onError;
    });
  }
  return result;
}

/** Validators answer a status; anything else from an application is its bug, reported as 5. */
export function asStatus(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) ? value : Status.SERVER_ERROR;
}
