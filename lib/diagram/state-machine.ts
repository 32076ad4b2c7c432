/**
 * A Mermaid flowchart of a state machine, from its Amazon States Language definition as synthesized (GitHub
 * draws Mermaid blocks in Markdown). Every state is a node; `Next`, `Default`, choices and catches are
 * arrows (catches dashed); the branches of Parallel and Map states are drawn inside them.
 */

type Json = Record<string, unknown>;

/** The ASL of a template's `DefinitionString`: its `Fn::Join` with the references replaced by `…`. */
export function definitionOf(definitionString: unknown): Json {
  if (typeof definitionString === 'string') return JSON.parse(definitionString) as Json;
  const join = (definitionString as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) throw new Error('DefinitionString is neither a string nor an Fn::Join');
  const [separator, parts] = join;
  return JSON.parse(parts.map((part) => (typeof part === 'string' ? part : '…')).join(separator)) as Json;
}

export function mermaidOf(definition: Json): string {
  const lines = ['flowchart TD'];
  const ids = new Map<string, string>();
  const idOf = (name: string) => {
    if (!ids.has(name)) ids.set(name, `s${ids.size}`);
    return ids.get(name)!;
  };
  const label = (name: string, state: Json) => {
    const type = String(state['Type']);
    const text = `${name}`.replace(/"/g, "'");
    const node = idOf(name);
    if (type === 'Choice') return `${node}{"${text}"}`;
    if (type === 'Succeed') return `${node}(["${text}"])`;
    if (type === 'Fail') return `${node}[["${text}"]]`;
    return `${node}["${text}"]`;
  };
  lines.push(`  start((start)) --> ${idOf(String(definition['StartAt']))}`);
  const visit = (states: Record<string, Json>, indent: string) => {
    for (const [name, state] of Object.entries(states)) {
      lines.push(`${indent}${label(name, state)}`);
      const branches = [
        ...((state['Branches'] as Json[] | undefined) ?? []),
        ...(state['ItemProcessor'] ? [state['ItemProcessor'] as Json] : []),
        ...(state['Iterator'] ? [state['Iterator'] as Json] : []),
      ];
      branches.forEach((branch, b) => {
        lines.push(`${indent}subgraph ${idOf(name)}_${b} ["${name}: branch ${b + 1}"]`);
        visit(branch['States'] as Record<string, Json>, `${indent}  `);
        lines.push(`${indent}end`);
        lines.push(`${indent}${idOf(name)} --> ${idOf(String(branch['StartAt']))}`);
      });
    }
    for (const [name, state] of Object.entries(states)) {
      const from = idOf(name);
      if (typeof state['Next'] === 'string') lines.push(`${indent}${from} --> ${idOf(state['Next'])}`);
      if (typeof state['Default'] === 'string')
        lines.push(`${indent}${from} -->|otherwise| ${idOf(state['Default'])}`);
      for (const choice of (state['Choices'] as Json[] | undefined) ?? [])
        if (typeof choice['Next'] === 'string') lines.push(`${indent}${from} --> ${idOf(choice['Next'])}`);
      for (const caught of (state['Catch'] as Json[] | undefined) ?? [])
        if (typeof caught['Next'] === 'string')
          lines.push(`${indent}${from} -.->|error| ${idOf(caught['Next'])}`);
    }
  };
  visit(definition['States'] as Record<string, Json>, '  ');
  return [...new Set(lines)].join('\n');
}
