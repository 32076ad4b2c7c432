import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderSvg, type Template, templateGraph } from '../../../lib/diagram/architecture.ts';
import { definitionOf, mermaidOf } from '../../../lib/diagram/state-machine.ts';

/** A template of made-up ids: what is drawn comes from types and references, not from names. */
const template: Template = {
  Resources: {
    Inbox: {
      Type: 'AWS::S3::Bucket',
      Properties: { NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } } },
    },
    Key: { Type: 'AWS::KMS::Key' },
    OnUpload: {
      Type: 'AWS::Events::Rule',
      Properties: {
        EventPattern: { source: ['aws.s3'] },
        Targets: [{ Arn: { 'Fn::GetAtt': ['Work', 'Arn'] } }],
      },
    },
    Work: { Type: 'AWS::SQS::Queue', Properties: { KmsMasterKeyId: { Ref: 'Key' } } },
    Mapping: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: { EventSourceArn: { 'Fn::GetAtt': ['Work', 'Arn'] }, FunctionName: { Ref: 'Checker' } },
    },
    CheckerRole: { Type: 'AWS::IAM::Role' },
    Checker: {
      Type: 'AWS::Lambda::Function',
      Properties: { Role: { 'Fn::GetAtt': ['CheckerRole', 'Arn'] } },
    },
    CheckerPolicy: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        Roles: [{ Ref: 'CheckerRole' }],
        PolicyDocument: {
          Statement: [
            {
              Action: 's3:GetObject',
              Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Inbox', 'Arn'] }, '/*']] },
            },
            { Action: ['sagemaker:InvokeEndpoint'], Resource: '*' },
          ],
        },
      },
    },
    Pager: { Type: 'AWS::SNS::Topic' },
    Broken: {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'Checker' } }],
        AlarmActions: [{ Ref: 'Pager' }],
      },
    },
  },
};

describe('templateGraph', () => {
  const graph = templateGraph(template);

  it('draws one box per resource type, with its count, and the services the policies call', () => {
    expect(graph.nodes.map((node) => [node.id, node.group, node.count])).toEqual([
      ['AWS::S3::Bucket', 'Storage', 1],
      ['AWS::KMS::Key', 'Storage', 1],
      ['AWS::Events::Rule', 'Events and queues', 1],
      ['AWS::SQS::Queue', 'Events and queues', 1],
      ['AWS::Lambda::Function', 'Functions', 1],
      ['AWS::CloudWatch::Alarm', 'Alarms and topic', 1],
      ['AWS::SNS::Topic', 'Alarms and topic', 1],
      ['service:sagemaker', 'SageMaker', 0],
    ]);
  });

  it('follows events, targets, event source mappings, IAM policies and alarm actions', () => {
    expect(graph.edges.map(({ from, to }) => `${from} -> ${to}`).sort()).toEqual([
      'AWS::CloudWatch::Alarm -> AWS::SNS::Topic',
      'AWS::Events::Rule -> AWS::SQS::Queue',
      'AWS::Lambda::Function -> AWS::CloudWatch::Alarm',
      'AWS::Lambda::Function -> AWS::S3::Bucket',
      'AWS::Lambda::Function -> service:sagemaker',
      'AWS::S3::Bucket -> AWS::Events::Rule',
      'AWS::SQS::Queue -> AWS::Lambda::Function',
    ]);
  });
});

describe('mermaidOf', () => {
  it('draws every state and transition of an ASL definition, catches dashed', () => {
    const definition = definitionOf({
      'Fn::Join': [
        '',
        [
          '{"StartAt":"Train","States":{"Train":{"Type":"Task","Resource":"',
          { Ref: 'Fn' },
          '","Next":"Good?","Catch":[{"ErrorEquals":["States.ALL"],"Next":"Failed"}]},"Good?":{"Type":"Choice","Choices":[{"Variable":"$.ok","BooleanEquals":true,"Next":"Done"}],"Default":"Failed"},"Done":{"Type":"Succeed"},"Failed":{"Type":"Fail"}}}',
        ],
      ],
    });
    expect(mermaidOf(definition)).toBe(
      [
        'flowchart TD',
        '  start((start)) --> s0',
        '  s0["Train"]',
        '  s1{"Good?"}',
        '  s2(["Done"])',
        '  s3[["Failed"]]',
        '  s0 --> s1',
        '  s0 -.->|error| s3',
        '  s1 -->|otherwise| s3',
        '  s1 --> s2',
      ].join('\n'),
    );
  });
});

describe('docs/architecture.svg', () => {
  let browser: Browser;
  let directory: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'driftwatch-diagram-'));
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('renders in Chromium at README width', { timeout: 180_000 }, async () => {
    const svg = pathToFileURL(resolve('docs/architecture.svg')).href;
    const page = join(directory, 'readme.html');
    // GitHub shows a README about 830 pixels wide.
    await writeFile(
      page,
      `<!doctype html><body style="margin:0"><img id="picture" src="${svg}" style="max-width:830px"></body>`,
    );
    const tab = await browser.newPage({ viewport: { width: 830, height: 900 } });
    await tab.goto(pathToFileURL(page).href);
    const [naturalWidth, width, height] = await tab.$eval('#picture', (image) => {
      const { naturalWidth, clientWidth, clientHeight } = image as unknown as Record<string, number>;
      return [naturalWidth, clientWidth, clientHeight];
    });
    expect(naturalWidth).toBeGreaterThan(0);
    expect(width).toBeGreaterThan(600);
    expect(height).toBeGreaterThan(200);
    const png = await tab.locator('#picture').screenshot({ timeout: 120_000 });
    expect(png.length).toBeGreaterThan(20_000);
  });

  it('is drawn from a template: it names the kinds of resource a deployment creates', async () => {
    const text = await import('node:fs/promises').then((fs) => fs.readFile('docs/architecture.svg', 'utf8'));
    for (const kind of [
      'AWS::S3::Bucket',
      'AWS::SQS::Queue',
      'AWS::Lambda::Function',
      'AWS::StepFunctions::StateMachine',
      'AWS::CloudWatch::Alarm',
      'AWS::SNS::Topic',
      'AWS::Scheduler::Schedule',
      'service:sagemaker',
    ])
      expect(text).toContain(`data-type="${kind}"`);
  });
});

it('renders any graph as a standalone SVG', () => {
  const svg = renderSvg(templateGraph(template), 'A & B');
  expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 960 \d+"/);
  expect(svg).toContain('<title>A &amp; B</title>');
});
