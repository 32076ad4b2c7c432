/**
 * SSM Parameter Store over AWS JSON 1.1 (`X-Amz-Target: AmazonSSM.GetParametersByPath`), read-only: the
 * parameters are the template's `AWS::SSM::Parameter` resources, as CloudFormation would have written them.
 */
import { LocalServiceError } from '../errors.ts';
import type { ServiceRoutes } from '../service-endpoint.ts';

/** One parameter as the template declares it. */
export interface LocalParameter {
  name: string;
  value: string;
  type: string;
}

/** Page size of GetParametersByPath (SSM's maximum). */
const MAX_RESULTS = 10;

export function ssmRoutes(parameters: () => readonly LocalParameter[]): ServiceRoutes['json'] {
  const view = (parameter: LocalParameter) => ({
    Name: parameter.name,
    Type: parameter.type,
    Value: parameter.value,
    Version: 1,
  });
  return {
    'AmazonSSM.GetParametersByPath': {
      namespace: 'ssm',
      operation: (input) => {
        const path = String(input['Path'] ?? '');
        if (!path.startsWith('/')) {
          throw new LocalServiceError('ValidationException', 'Path must start with /', { status: 400 });
        }
        const prefix = path.endsWith('/') ? path : `${path}/`;
        const recursive = input['Recursive'] === true;
        const matching = parameters()
          .filter((parameter) => parameter.name.startsWith(prefix))
          .filter((parameter) => recursive || !parameter.name.slice(prefix.length).includes('/'))
          .sort((a, b) => a.name.localeCompare(b.name));
        const size = Math.min(Number(input['MaxResults'] ?? MAX_RESULTS), MAX_RESULTS);
        const start = Number(input['NextToken'] ?? 0);
        const page = matching.slice(start, start + size);
        return {
          Parameters: page.map(view),
          ...(start + size < matching.length ? { NextToken: String(start + size) } : {}),
        };
      },
    },
    'AmazonSSM.GetParameter': {
      namespace: 'ssm',
      operation: (input) => {
        const found = parameters().find((parameter) => parameter.name === input['Name']);
        if (!found)
          throw new LocalServiceError('ParameterNotFound', `Parameter ${String(input['Name'])} not found`, {
            status: 400,
          });
        return { Parameter: view(found) };
      },
    },
  };
}
