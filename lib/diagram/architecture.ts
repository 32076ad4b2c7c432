/**
 * A picture of a synthesized CloudFormation template: its resources grouped by kind (storage, events and
 * queues, functions, state machines, alarms and topics, schedules, SageMaker), one box per resource type
 * with its count, and an arrow wherever resources of one type refer to another (directly, through a rule's
 * targets or an event source mapping, or through the IAM policies of the role a resource runs as). Nothing
 * here knows the stack's construct ids, so the picture stays true when the stack is reorganised.
 */

type Json = Record<string, unknown>;
export interface Template {
  Resources: Record<string, { Type: string; Properties?: Json }>;
}

interface Kind {
  group: string;
  label: string;
}

/** The resource types drawn, by group; anything else is glue (roles, policies, log groups...). */
const KINDS: Record<string, Kind> = {
  'AWS::S3::Bucket': { group: 'Storage', label: 'S3 buckets' },
  'AWS::DynamoDB::Table': { group: 'Storage', label: 'DynamoDB tables' },
  'AWS::KMS::Key': { group: 'Storage', label: 'KMS keys' },
  'AWS::SSM::Parameter': { group: 'Storage', label: 'SSM parameters' },
  'AWS::Events::Rule': { group: 'Events and queues', label: 'EventBridge rules' },
  'AWS::SQS::Queue': { group: 'Events and queues', label: 'SQS queues' },
  'AWS::Lambda::Function': { group: 'Functions', label: 'Lambda functions' },
  'AWS::StepFunctions::StateMachine': { group: 'State machines', label: 'Step Functions state machines' },
  'AWS::CloudWatch::Alarm': { group: 'Alarms and topic', label: 'CloudWatch alarms' },
  'AWS::CloudWatch::Dashboard': { group: 'Alarms and topic', label: 'CloudWatch dashboards' },
  'AWS::SNS::Topic': { group: 'Alarms and topic', label: 'SNS topics' },
  'AWS::Scheduler::Schedule': { group: 'Schedules', label: 'EventBridge Scheduler schedules' },
  'AWS::SageMaker::ModelPackageGroup': { group: 'SageMaker', label: 'SageMaker model package groups' },
};
/** Services a template's IAM policies call without declaring a resource of theirs. */
const CALLED_SERVICES: Record<string, Kind> = {
  sagemaker: { group: 'SageMaker', label: 'SageMaker (training, transforms, endpoints, registry)' },
  events: { group: 'Events and queues', label: 'EventBridge default bus' },
  cloudwatch: { group: 'Alarms and topic', label: 'CloudWatch metrics' },
};

export interface Graph {
  nodes: { id: string; group: string; label: string; count: number }[];
  edges: { from: string; to: string }[];
}

/** Logical ids referred to anywhere in `value` (Ref, Fn::GetAtt). */
function refsIn(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) refsIn(item, found);
  else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Ref' && typeof inner === 'string') found.add(inner);
      else if (key === 'Fn::GetAtt')
        found.add(Array.isArray(inner) ? String(inner[0]) : String(inner).split('.')[0]!);
      else refsIn(inner, found);
    }
  }
  return found;
}

/** IAM actions in `value`, e.g. `sagemaker:CreateTrainingJob`. */
function actionsIn(statements: unknown): string[] {
  const actions: string[] = [];
  for (const statement of (statements as Json[] | undefined) ?? []) {
    const action = statement['Action'];
    actions.push(...(Array.isArray(action) ? action : [action]).map(String));
  }
  return actions;
}

export function templateGraph(template: Template): Graph {
  const resources = template.Resources;
  const typeOf = (id: string) => resources[id]?.Type;
  const drawn = (id: string) => (typeOf(id) ?? '') in KINDS;
  const edges = new Set<string>();
  const add = (from: string, to: string) => {
    if (from !== to) edges.add(`${from}\u0000${to}`);
  };
  // What runs as each role: its policies' resources and actions belong to that resource.
  const roleUsers = new Map<string, string[]>();
  for (const [id, resource] of Object.entries(resources)) {
    if (!drawn(id)) continue;
    for (const ref of refsIn(resource.Properties?.['Role'] ?? resource.Properties?.['RoleArn'] ?? null))
      roleUsers.set(ref, [...(roleUsers.get(ref) ?? []), id]);
    for (const target of (resource.Properties?.['Targets'] as Json[] | undefined) ?? [])
      for (const ref of refsIn(target['RoleArn'] ?? null))
        roleUsers.set(ref, [...(roleUsers.get(ref) ?? []), id]);
  }
  const called = new Map<string, Set<string>>();
  for (const [id, resource] of Object.entries(resources)) {
    const props = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::IAM::Policy': {
        const statements = (props['PolicyDocument'] as Json)['Statement'];
        const users = [...refsIn(props['Roles'] ?? [])].flatMap((role) => roleUsers.get(role) ?? []);
        const targets = [...refsIn((statements as Json[]).map((s) => s['Resource']))].filter(drawn);
        const services = new Set(actionsIn(statements).map((action) => action.split(':')[0]!));
        for (const user of users) {
          for (const target of targets) add(user, target);
          for (const service of services) if (service in CALLED_SERVICES) add(user, `service:${service}`);
        }
        for (const service of services)
          if (users.length > 0 && service in CALLED_SERVICES) called.set(service, new Set());
        break;
      }
      case 'AWS::Lambda::EventSourceMapping':
        for (const source of refsIn(props['EventSourceArn'] ?? null))
          for (const fn of refsIn(props['FunctionName'] ?? null)) add(source, fn);
        break;
      case 'AWS::CloudWatch::Alarm':
        // What an alarm watches flows into it; it notifies its actions.
        for (const watched of refsIn(props['Dimensions'] ?? props['Metrics'] ?? []))
          if (drawn(watched)) add(watched, id);
        for (const action of refsIn(props['AlarmActions'] ?? [])) add(id, action);
        break;
      default:
        if (!drawn(id)) break;
        for (const ref of refsIn(props)) {
          if (!drawn(ref) || typeOf(ref) === 'AWS::KMS::Key') continue;
          // A rule or schedule sends to its targets; a bucket's events go to the bus's rules.
          add(id, ref);
        }
    }
  }
  // Buckets that send events to EventBridge feed the rules that match S3 events.
  const s3Rules = Object.entries(resources)
    .filter(
      ([, r]) =>
        r.Type === 'AWS::Events::Rule' &&
        JSON.stringify(r.Properties?.['EventPattern'] ?? {}).includes('aws.s3'),
    )
    .map(([id]) => id);
  for (const [id, resource] of Object.entries(resources)) {
    const notifications = resource.Properties?.['NotificationConfiguration'] as Json | undefined;
    if (resource.Type === 'AWS::S3::Bucket' && notifications?.['EventBridgeConfiguration'])
      for (const rule of s3Rules) add(id, rule);
  }

  const nodeOf = (id: string) => (id.startsWith('service:') ? id : (typeOf(id) ?? id));
  const counts = new Map<string, number>();
  for (const id of Object.keys(resources))
    if (drawn(id)) counts.set(typeOf(id)!, (counts.get(typeOf(id)!) ?? 0) + 1);
  const order = Object.keys(KINDS);
  const nodes = [...counts]
    .sort(([a], [b]) => order.indexOf(a) - order.indexOf(b))
    .map(([type, count]) => ({ id: type, ...KINDS[type]!, count }));
  for (const service of called.keys())
    nodes.push({ id: `service:${service}`, ...CALLED_SERVICES[service]!, count: 0 });
  const typeEdges = new Set<string>();
  for (const edge of edges) {
    const [from, to] = edge.split('\u0000') as [string, string];
    const a = nodeOf(from);
    const b = nodeOf(to);
    if (a !== b && nodes.some((n) => n.id === a) && nodes.some((n) => n.id === b))
      typeEdges.add(`${a}\u0000${b}`);
  }
  // Keys are used by nearly everything and dashboards show nearly everything: their arrows would hide the flow.
  const quiet = new Set(['AWS::KMS::Key', 'AWS::CloudWatch::Dashboard']);
  const shown = [...typeEdges]
    .map((edge) => edge.split('\u0000') as [string, string])
    .filter(([from, to]) => !quiet.has(from) && !quiet.has(to))
    .map(([from, to]) => ({ from, to }));
  return { nodes, edges: shown };
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The graph as an SVG laid out in columns by group, 960 pixels wide (it scales down to any width). */
export function renderSvg(graph: Graph, title: string): string {
  const columns = [
    ['Schedules', 'Storage'],
    ['Events and queues'],
    ['Functions', 'State machines'],
    ['SageMaker', 'Alarms and topic'],
  ];
  const W = 960;
  const colWidth = 220;
  const gap = (W - columns.length * colWidth) / (columns.length + 1);
  const boxH = 44;
  const boxes = new Map<string, { x: number; y: number; w: number; h: number }>();
  const parts: string[] = [];
  let height = 0;
  columns.forEach((groups, c) => {
    let y = 56;
    const x = gap + c * (colWidth + gap);
    for (const group of groups) {
      const members = graph.nodes.filter((node) => node.group === group);
      if (members.length === 0) continue;
      const h = 34 + members.length * (boxH + 10);
      parts.push(
        `<rect x="${x}" y="${y}" width="${colWidth}" height="${h}" rx="10" class="group"/>`,
        `<text x="${x + 12}" y="${y + 22}" class="group-title">${escapeXml(group)}</text>`,
      );
      members.forEach((node, i) => {
        const box = { x: x + 10, y: y + 32 + i * (boxH + 10), w: colWidth - 20, h: boxH };
        boxes.set(node.id, box);
        const count = node.count > 0 ? ` ×${node.count}` : '';
        parts.push(
          `<g class="node" data-type="${escapeXml(node.id)}"><rect x="${box.x}" y="${box.y}" width="${box.w}" height="${box.h}" rx="6"/>`,
          ...wrap(`${node.label}${count}`, 27).map(
            (line, l, all) =>
              `<text x="${box.x + box.w / 2}" y="${box.y + box.h / 2 + 4 + (l - (all.length - 1) / 2) * 14}" text-anchor="middle">${escapeXml(line)}</text>`,
          ),
          '</g>',
        );
      });
      y += h + 20;
    }
    height = Math.max(height, y);
  });
  const arrows = graph.edges.flatMap(({ from, to }) => {
    const a = boxes.get(from);
    const b = boxes.get(to);
    if (!a || !b) return [];
    const forward = b.x >= a.x;
    const x1 = forward ? a.x + a.w : a.x;
    const x2 = forward ? b.x : b.x + b.w;
    const sameColumn = a.x === b.x;
    const y1 = a.y + a.h / 2;
    const y2 = b.y + b.h / 2;
    const path = sameColumn
      ? `M${a.x} ${y1} C${a.x - 14} ${y1}, ${b.x - 14} ${y2}, ${b.x} ${y2}`
      : `M${x1} ${y1} C${(x1 + x2) / 2} ${y1}, ${(x1 + x2) / 2} ${y2}, ${x2} ${y2}`;
    return [`<path d="${path}" class="edge" marker-end="url(#arrow)"/>`];
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="${escapeXml(title)}">
<title>${escapeXml(title)}</title>
<style>
  text { font: 13px system-ui, -apple-system, "Segoe UI", sans-serif; fill: #1f2328; }
  .group { fill: #f6f8fa; stroke: #d0d7de; }
  .group-title { font-weight: 600; font-size: 14px; }
  .node rect { fill: #ffffff; stroke: #0969da; stroke-width: 1.5; }
  .edge { fill: none; stroke: #57606a; stroke-width: 1.3; opacity: 0.8; }
  .heading { font-size: 16px; font-weight: 600; }
</style>
<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="#57606a"/></marker></defs>
<text x="${gap}" y="32" class="heading">${escapeXml(title)}</text>
${parts.join('\n')}
${arrows.join('\n')}
</svg>
`;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && (line + ' ' + word).length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}
