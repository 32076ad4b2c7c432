/**
 * SNS over the query protocol (`Action=Publish&Version=2010-03-31`, form-encoded; XML answers): Publish
 * and ListTopics on the in-memory topics.
 */
import { LocalServiceError } from '../errors.ts';
import type { MessageAttributeValue } from '../queue.ts';
import { type QueryService, xmlText } from '../service-endpoint.ts';
import type { LocalTopic, PublishedMessage } from '../topic.ts';

/** The topics the API answers for, and how a message is published (delivery is the local AWS's). */
export interface TopicDirectory {
  find(arn: string): LocalTopic | undefined;
  all(): LocalTopic[];
  publish(
    topic: LocalTopic,
    input: { message: string; subject?: string; messageAttributes: Record<string, MessageAttributeValue> },
  ): PublishedMessage;
}

/** `MessageAttributes.entry.N.Name` / `.Value.DataType` / `.Value.StringValue` / `.Value.BinaryValue`. */
function messageAttributes(params: URLSearchParams): Record<string, MessageAttributeValue> {
  const attributes: Record<string, MessageAttributeValue> = {};
  for (let n = 1; params.has(`MessageAttributes.entry.${n}.Name`); n += 1) {
    const prefix = `MessageAttributes.entry.${n}`;
    const stringValue = params.get(`${prefix}.Value.StringValue`);
    const binaryValue = params.get(`${prefix}.Value.BinaryValue`);
    attributes[params.get(`${prefix}.Name`)!] = {
      DataType: params.get(`${prefix}.Value.DataType`) ?? 'String',
      ...(stringValue === null ? {} : { StringValue: stringValue }),
      ...(binaryValue === null ? {} : { BinaryValue: binaryValue }),
    };
  }
  return attributes;
}

export function snsService(topics: TopicDirectory): QueryService {
  return {
    version: '2010-03-31',
    xmlns: 'http://sns.amazonaws.com/doc/2010-03-31/',
    operations: {
      Publish: (params) => {
        const arn = params.get('TopicArn') ?? params.get('TargetArn');
        if (!arn)
          throw new LocalServiceError(
            'InvalidParameter',
            'Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter',
          );
        const message = params.get('Message');
        if (message === null)
          throw new LocalServiceError(
            'InvalidParameter',
            'Invalid parameter: Message Reason: no value for required parameter',
          );
        const topic = topics.find(arn);
        if (!topic) throw new LocalServiceError('NotFound', 'Topic does not exist', { status: 404 });
        const subject = params.get('Subject');
        const published = topics.publish(topic, {
          message,
          ...(subject === null ? {} : { subject }),
          messageAttributes: messageAttributes(params),
        });
        return `<MessageId>${published.messageId}</MessageId>`;
      },
      ListTopics: () =>
        `<Topics>${topics
          .all()
          .map((topic) => `<member><TopicArn>${xmlText(topic.arn)}</TopicArn></member>`)
          .join('')}</Topics>`,
    },
  };
}
