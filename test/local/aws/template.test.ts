// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub strings, not JavaScript templates.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TemplateError } from '../../../local/aws/errors.ts';
import { type CfnTemplate, IntrinsicResolver, readCloudAssembly } from '../../../local/aws/template.ts';

const template: CfnTemplate = {
  Parameters: {
    Env: { Type: 'String', Default: 'dev' },
    Zones: { Type: 'CommaDelimitedList', Default: 'a,b' },
  },
  Conditions: {
    IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] },
    NotProd: { 'Fn::Not': [{ Condition: 'IsProd' }] },
  },
  Mappings: { Sizes: { dev: { Memory: 256 } } },
  Resources: {
    Bucket6D60388F: { Type: 'AWS::S3::Bucket' },
    Named: {
      Type: 'AWS::S3::Bucket',
      Properties: { BucketName: { 'Fn::Sub': '${AWS::StackName}-named-${Env}' } },
    },
    Queue: { Type: 'AWS::SQS::Queue' },
    Fifo: { Type: 'AWS::SQS::Queue', Properties: { FifoQueue: true } },
    Topic: { Type: 'AWS::SNS::Topic' },
    Table: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'items' } },
    Fn: { Type: 'AWS::Lambda::Function' },
    Machine: { Type: 'AWS::StepFunctions::StateMachine', Properties: { StateMachineName: 'flow' } },
    ProdOnly: { Type: 'AWS::SQS::Queue', Condition: 'IsProd' },
    Key: { Type: 'AWS::KMS::Key' },
    Odd: { Type: 'AWS::SageMaker::ModelPackageGroup' },
  },
};

const resolver = () =>
  new IntrinsicResolver(template, 'Stack', undefined, {
    queueEndpoint: 'http://127.0.0.1:4000/',
    imports: (name) => (name === 'shared-topic' ? 'arn:aws:sns:us-east-1:123456789012:shared' : undefined),
  });

describe('IntrinsicResolver', () => {
  it('gives each resource a local name, Ref and ARN', () => {
    const r = resolver();
    expect(r.resolve({ Ref: 'Bucket6D60388F' })).toBe('stack-bucket6d60388f');
    expect(r.resolve({ 'Fn::GetAtt': ['Bucket6D60388F', 'Arn'] })).toBe('arn:aws:s3:::stack-bucket6d60388f');
    expect(r.resolve({ Ref: 'Named' })).toBe('Stack-named-dev');
    expect(r.resolve({ Ref: 'Queue' })).toBe('http://127.0.0.1:4000/123456789012/Stack-Queue');
    expect(r.resolve({ 'Fn::GetAtt': ['Queue', 'Arn'] })).toBe(
      'arn:aws:sqs:us-east-1:123456789012:Stack-Queue',
    );
    expect(r.resolve({ 'Fn::GetAtt': ['Queue', 'QueueName'] })).toBe('Stack-Queue');
    expect(r.resolve({ 'Fn::GetAtt': ['Fifo', 'QueueName'] })).toBe('Stack-Fifo.fifo');
    expect(r.resolve({ Ref: 'Topic' })).toBe('arn:aws:sns:us-east-1:123456789012:Stack-Topic');
    expect(r.resolve({ 'Fn::GetAtt': ['Table', 'Arn'] })).toBe(
      'arn:aws:dynamodb:us-east-1:123456789012:table/items',
    );
    expect(r.resolve({ Ref: 'Fn' })).toBe('Stack-Fn');
    expect(r.resolve({ 'Fn::GetAtt': ['Fn', 'Arn'] })).toBe(
      'arn:aws:lambda:us-east-1:123456789012:function:Stack-Fn',
    );
    expect(r.resolve({ Ref: 'Machine' })).toBe('arn:aws:states:us-east-1:123456789012:stateMachine:flow');
    expect(r.resolve({ 'Fn::GetAtt': ['Machine', 'Name'] })).toBe('flow');
    expect(r.resolve({ Ref: 'Key' })).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
    expect(r.resolve({ 'Fn::GetAtt': ['Odd', 'Arn'] })).toBe(
      'arn:aws:sagemaker:us-east-1:123456789012:modelpackagegroup/Stack-Odd',
    );
  });

  it('resolves pseudo parameters, parameters, Join, Sub, Select, Split, FindInMap and ImportValue', () => {
    const r = resolver();
    expect(
      r.resolve({
        'Fn::Join': [':', [{ Ref: 'AWS::Partition' }, { Ref: 'AWS::Region' }, { Ref: 'AWS::AccountId' }]],
      }),
    ).toBe('aws:us-east-1:123456789012');
    expect(r.resolve({ 'Fn::Sub': 'arn:${AWS::Partition}:x:::${Queue.QueueName}/${!Literal}/${Env}' })).toBe(
      'arn:aws:x:::Stack-Queue/${Literal}/dev',
    );
    expect(r.resolve({ 'Fn::Sub': ['${Name}-${AWS::StackName}', { Name: { Ref: 'Fn' } }] })).toBe(
      'Stack-Fn-Stack',
    );
    expect(r.resolve({ 'Fn::Select': [1, { 'Fn::Split': ['/', 'a/b/c'] }] })).toBe('b');
    expect(r.resolve({ 'Fn::Select': [1, { Ref: 'Zones' }] })).toBe('b');
    expect(r.resolve({ 'Fn::FindInMap': ['Sizes', { Ref: 'Env' }, 'Memory'] })).toBe(256);
    expect(r.resolve({ 'Fn::ImportValue': 'shared-topic' })).toBe(
      'arn:aws:sns:us-east-1:123456789012:shared',
    );
    expect(r.resolve({ 'Fn::ToJsonString': { a: { Ref: 'Env' } } })).toBe('{"a":"dev"}');
  });

  it('evaluates conditions: Fn::If, AWS::NoValue and conditional resources', () => {
    const r = resolver();
    expect(
      r.resolve({
        a: { 'Fn::If': ['IsProd', 'big', 'small'] },
        b: { 'Fn::If': ['NotProd', { Ref: 'AWS::NoValue' }, 1] },
      }),
    ).toEqual({
      a: 'small',
    });
    expect(r.resolve(['x', { Ref: 'AWS::NoValue' }, 'y'])).toEqual(['x', 'y']);
    expect(r.isEnabled('ProdOnly')).toBe(false);
    expect(r.resourcesOfType('AWS::SQS::Queue')).toEqual(['Queue', 'Fifo']);
    const prod = new IntrinsicResolver(template, 'Stack', undefined, { parameters: { Env: 'prod' } });
    expect(prod.resourcesOfType('AWS::SQS::Queue')).toEqual(['Queue', 'Fifo', 'ProdOnly']);
  });

  it('names the resource, attribute or intrinsic it cannot resolve', () => {
    const r = resolver();
    expect(() => r.resolve({ Ref: 'Missing' })).toThrow(
      new TemplateError('Missing', 'Ref of an unknown resource'),
    );
    expect(() => r.resolve({ 'Fn::GetAtt': ['Queue', 'Color'] })).toThrow(
      /Queue: Fn::GetAtt Color of AWS::SQS::Queue is not known locally/,
    );
    expect(() => r.resolve({ 'Fn::ImportValue': 'nope' })).toThrow(/no stack exports nope/);
    expect(() => r.resolve({ 'Fn::Select': [5, ['a']] })).toThrow(/index 5 is outside the list of 1/);
  });
});

describe('readCloudAssembly', () => {
  it('reads each stack with its template and finds function code by metadata or by the asset manifest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'driftwatch-assembly-'));
    mkdirSync(join(dir, 'asset.abc'));
    mkdirSync(join(dir, 'asset.def'));
    const stack: CfnTemplate = {
      Resources: {
        WithMetadata: { Type: 'AWS::Lambda::Function', Metadata: { 'aws:asset:path': 'asset.abc' } },
        WithManifest: {
          Type: 'AWS::Lambda::Function',
          Properties: { Code: { S3Bucket: 'assets', S3Key: 'def.zip' } },
        },
        Inline: { Type: 'AWS::Lambda::Function', Properties: { Code: { ZipFile: 'exports.handler = 1' } } },
      },
    };
    writeFileSync(join(dir, 'One.template.json'), JSON.stringify(stack));
    writeFileSync(
      join(dir, 'One.assets.json'),
      JSON.stringify({
        files: {
          def: {
            source: { path: 'asset.def', packaging: 'zip' },
            destinations: { main: { objectKey: 'def.zip' } },
          },
        },
      }),
    );
    writeFileSync(
      join(dir, 'manifest.json'),
      JSON.stringify({
        artifacts: {
          'One.assets': { type: 'cdk:asset-manifest' },
          One: {
            type: 'aws:cloudformation:stack',
            properties: { templateFile: 'One.template.json' },
            displayName: 'One',
          },
        },
      }),
    );
    const [one] = readCloudAssembly(dir);
    expect(one!.stackName).toBe('One');
    expect(one!.assetPath('WithMetadata')).toBe(join(dir, 'asset.abc'));
    expect(one!.assetPath('WithManifest')).toBe(join(dir, 'asset.def'));
    expect(one!.assetPath('Inline')).toBeUndefined();
  });

  it('says when a directory is not a cloud assembly', () => {
    expect(() => readCloudAssembly(tmpdir())).toThrow(/not a cloud assembly/);
  });
});
