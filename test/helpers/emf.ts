import { vi } from 'vitest';

/** One CloudWatch EMF document as Powertools Metrics prints it. */
export interface EmfDocument {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

/** A metric value read back from EMF output, with the dimensions (names and values) it was published under. */
export interface EmittedMetric {
  namespace: string;
  name: string;
  unit: string;
  value: number | number[];
  dimensions: Record<string, string>;
}

/**
 * Captures what is written to stdout and stderr, where Powertools Logger and Metrics print their JSON lines
 * in Lambda (EMF and logs up to INFO on stdout, warnings and errors on stderr), and keeps it out of the test
 * output. Lines are kept in the order they were written.
 */
export class OutputCapture {
  private text = '';
  private readonly spies = [process.stdout, process.stderr].map((stream) =>
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      this.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return true;
    }),
  );

  /** Every JSON line written so far (other lines are ignored). */
  json(): Record<string, unknown>[] {
    return this.text
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  emf(): EmfDocument[] {
    return this.json().filter((line): line is EmfDocument => '_aws' in line);
  }

  /** Log lines (everything that is not EMF). */
  logs(): Record<string, unknown>[] {
    return this.json().filter((line) => !('_aws' in line));
  }

  /** Every metric value in the EMF documents, one entry per metric per document. */
  /**
   * The metrics emitted, without the paging metrics (`Page`, `PageReason`) unless `includePages`: those are
   * checked by the tests of paging, so the tests of each check keep their exact lists.
   */
  metrics(options: { includePages?: boolean } = {}): EmittedMetric[] {
    const all = this.allMetrics();
    return options.includePages
      ? all
      : all.filter((metric) => metric.name !== 'Page' && metric.name !== 'PageReason');
  }

  private allMetrics(): EmittedMetric[] {
    const metrics: EmittedMetric[] = [];
    for (const document of this.emf()) {
      for (const directive of document._aws.CloudWatchMetrics) {
        for (const dimensionSet of directive.Dimensions) {
          const dimensions = Object.fromEntries(dimensionSet.map((name) => [name, String(document[name])]));
          for (const metric of directive.Metrics) {
            metrics.push({
              namespace: directive.Namespace,
              name: metric.Name,
              unit: metric.Unit,
              value: document[metric.Name] as number | number[],
              dimensions,
            });
          }
        }
      }
    }
    return metrics;
  }

  raw(): string {
    return this.text;
  }

  clear(): void {
    this.text = '';
  }

  restore(): void {
    for (const spy of this.spies) spy.mockRestore();
  }
}
