import { randomUUID } from 'node:crypto';
import type { DataCaptureConfig } from '@aws-sdk/client-sagemaker';
import { seededRandom } from '../trainers/random.ts';
import type { EmulatorContext } from './context.ts';
import type { EndpointRecord } from './endpoints.ts';
import { validationError } from './protocol.ts';
import { joinS3, parseS3Uri, putBytes } from './s3.ts';

/**
 * SageMaker Data Capture, as an endpoint whose config has `DataCaptureConfig` does it: a share
 * (`InitialSamplingPercentage`) of the requests each production variant answers is recorded, request and/or
 * response per `CaptureOptions`, one JSON line per request, and the lines are written to S3 in files under
 * `<DestinationS3Uri>/<EndpointName>/<VariantName>/yyyy/mm/dd/hh/<mm-ss-mmm>-<uuid>.jsonl`, named and placed
 * by the time the file was opened. A file collects a variant's requests for {@link CAPTURE_FILE_SECONDS} of
 * the emulator's clock (never across an hour), as SageMaker buffers them; {@link DataCapture.flush} writes
 * what is buffered now.
 *
 * Payload encoding follows `CaptureContentTypeHeader`: `CSV` for the content types in `CsvContentTypes`,
 * `JSON` for those in `JsonContentTypes`, `BASE64` otherwise (SageMaker's default).
 */

/** Seconds of the emulator's clock a capture file stays open. */
export const CAPTURE_FILE_SECONDS = 60;

interface OpenFile {
  uri: string;
  endpoint: string;
  variant: string;
  opened: Date;
  lines: string[];
}

/** One answered request, as the runtime saw it. */
export interface CapturedCall {
  endpoint: EndpointRecord;
  variant: string;
  requestContentType: string | undefined;
  requestBody: Uint8Array;
  responseContentType: string;
  responseBody: string;
  inferenceId: string | undefined;
}

/** Checks a `DataCaptureConfig` as CreateEndpointConfig does. @throws SageMakerApiError */
export function validateDataCaptureConfig(config: DataCaptureConfig | undefined): void {
  if (config === undefined) return;
  const percentage = config.InitialSamplingPercentage;
  if (typeof percentage !== 'number' || !Number.isInteger(percentage) || percentage < 0 || percentage > 100)
    throw validationError(
      'DataCaptureConfig.InitialSamplingPercentage must be a whole number from 0 to 100.',
    );
  if (typeof config.DestinationS3Uri !== 'string' || !config.DestinationS3Uri.startsWith('s3://'))
    throw validationError('DataCaptureConfig.DestinationS3Uri must be an s3:// URI.');
  const options = config.CaptureOptions ?? [];
  if (options.length === 0 || options.length > 2)
    throw validationError('DataCaptureConfig.CaptureOptions must hold 1 or 2 entries.');
  for (const option of options) {
    if (!['Input', 'Output', 'InputAndOutput'].includes(String(option.CaptureMode)))
      throw validationError(
        `DataCaptureConfig.CaptureOptions: CaptureMode ${JSON.stringify(option.CaptureMode)} is not Input, Output or InputAndOutput.`,
      );
  }
}

const two = (n: number) => String(n).padStart(2, '0');

export class DataCapture {
  private readonly context: EmulatorContext;
  private readonly draws: () => number;
  private readonly open = new Map<string, OpenFile>();
  private readonly writes = new Set<Promise<void>>();

  constructor(context: EmulatorContext, seed: number) {
    this.context = context;
    this.draws = seededRandom(seed ^ 0xca97);
  }

  /** Records a request a production variant answered, when its endpoint's config captures and the draw says so. */
  record(call: CapturedCall): void {
    const config = this.context.state.endpointConfigs.get(call.endpoint.configName)?.request
      .DataCaptureConfig;
    if (config === undefined || config.EnableCapture === false) return;
    if (!(this.draws() * 100 < (config.InitialSamplingPercentage ?? 0))) return;
    const modes = new Set((config.CaptureOptions ?? []).map((option) => option.CaptureMode));
    const input = modes.has('Input') || modes.has('InputAndOutput');
    const output = modes.has('Output') || modes.has('InputAndOutput');
    const now = this.context.now();
    const captureData: Record<string, unknown> = {};
    if (input)
      captureData['endpointInput'] = payload(
        config,
        call.requestContentType ?? 'application/octet-stream',
        'INPUT',
        Buffer.from(call.requestBody),
      );
    if (output)
      captureData['endpointOutput'] = payload(
        config,
        call.responseContentType,
        'OUTPUT',
        Buffer.from(call.responseBody, 'utf8'),
      );
    const line = JSON.stringify({
      captureData,
      eventMetadata: {
        eventId: randomUUID(),
        ...(call.inferenceId !== undefined && { inferenceId: call.inferenceId }),
        inferenceTime: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
      eventVersion: '0',
    });
    const id = `${call.endpoint.name}\u0000${call.variant}`;
    let file = this.open.get(id);
    if (
      file !== undefined &&
      (now.getTime() - file.opened.getTime() >= CAPTURE_FILE_SECONDS * 1000 ||
        Math.floor(now.getTime() / 3_600_000) !== Math.floor(file.opened.getTime() / 3_600_000))
    ) {
      this.write(file);
      file = undefined;
    }
    if (file === undefined) {
      file = {
        uri: config.DestinationS3Uri!,
        endpoint: call.endpoint.name,
        variant: call.variant,
        opened: now,
        lines: [],
      };
      this.open.set(id, file);
    }
    file.lines.push(line);
  }

  /** Writes every open file now and waits for every write. */
  async flush(): Promise<void> {
    for (const file of this.open.values()) this.write(file);
    this.open.clear();
    while (this.writes.size > 0) await Promise.all([...this.writes]);
  }

  private write(file: OpenFile): void {
    this.open.delete(`${file.endpoint}\u0000${file.variant}`);
    const t = file.opened;
    const name = `${two(t.getUTCMinutes())}-${two(t.getUTCSeconds())}-${String(t.getUTCMilliseconds()).padStart(3, '0')}-${randomUUID()}.jsonl`;
    const location = parseS3Uri(
      joinS3(
        file.uri,
        file.endpoint,
        file.variant,
        String(t.getUTCFullYear()),
        two(t.getUTCMonth() + 1),
        two(t.getUTCDate()),
        two(t.getUTCHours()),
        name,
      ),
    );
    const writing = putBytes(this.context.s3, location, `${file.lines.join('\n')}\n`, 'application/jsonlines')
      .catch((error: unknown) => {
        console.error(
          JSON.stringify({ message: 'data capture write failed', key: location.key, error: String(error) }),
        );
      })
      .finally(() => this.writes.delete(writing));
    this.writes.add(writing);
  }
}

/** One side of a captured request, encoded as `CaptureContentTypeHeader` says. */
function payload(config: DataCaptureConfig, contentType: string, mode: 'INPUT' | 'OUTPUT', body: Buffer) {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  const header = config.CaptureContentTypeHeader;
  const listed = (types: string[] | undefined) => (types ?? []).some((item) => item.toLowerCase() === type);
  const encoding = listed(header?.CsvContentTypes)
    ? 'CSV'
    : listed(header?.JsonContentTypes)
      ? 'JSON'
      : 'BASE64';
  return {
    observedContentType: contentType,
    mode,
    data: encoding === 'BASE64' ? body.toString('base64') : body.toString('utf8'),
    encoding,
  };
}
