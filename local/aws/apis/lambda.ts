/**
 * Lambda `Invoke` over REST JSON (`POST /2015-03-31/functions/{name}/invocations`): `RequestResponse`
 * answers the payload (with `X-Amz-Function-Error` when the function failed), `Event` answers 202 and runs
 * the function in the background.
 */
import type { InvocationResult } from '../functions.ts';
import type { RestResponse, RestRoute } from '../service-endpoint.ts';

export interface FunctionInvoker {
  /**
   * Undefined when no function has that name or ARN; `accepted` for an `Event` invocation (it runs in the
   * background).
   */
  invoke(
    nameOrArn: string,
    payload: unknown,
    invocationType: 'RequestResponse' | 'Event',
  ): Promise<InvocationResult | 'accepted' | undefined>;
}

export function lambdaRoute(functions: FunctionInvoker): RestRoute {
  return async ({ method, path, headers, body }): Promise<RestResponse | undefined> => {
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(path);
    if (method !== 'POST' || !match) return undefined;
    const name = decodeURIComponent(match[1]!);
    const type = headers['x-amz-invocation-type'] === 'Event' ? 'Event' : 'RequestResponse';
    let payload: unknown = null;
    if (body.length > 0) {
      try {
        payload = JSON.parse(body.toString('utf8'));
      } catch {
        return {
          status: 400,
          headers: {
            'x-amzn-errortype': 'InvalidRequestContentException',
            'content-type': 'application/json',
          },
          body: JSON.stringify({ Type: 'User', message: 'Could not parse request body into json' }),
        };
      }
    }
    const result = await functions.invoke(name, payload, type);
    if (!result) {
      return {
        status: 404,
        headers: { 'x-amzn-errortype': 'ResourceNotFoundException', 'content-type': 'application/json' },
        body: JSON.stringify({ Type: 'User', message: `Function not found: ${name}` }),
      };
    }
    if (result === 'accepted') return { status: 202, body: '' };
    return {
      status: 200,
      headers: {
        'content-type': 'application/json',
        'x-amz-executed-version': '$LATEST',
        ...(result.status === 'failed' ? { 'x-amz-function-error': 'Unhandled' } : {}),
      },
      body: JSON.stringify(result.status === 'failed' ? result.error : result.payload),
    };
  };
}
