/**
 * Reads a `.http` file in the REST Client format (VS Code): `@name = value` file variables, requests separated by
 * `###`, `# @name x` to name a request, `{{x.response.body.$.path}}` to use an earlier answer, and
 * `{{$datetime iso8601 N d}}`. Only what docs/walkthrough.http uses; anything else is an error, not a guess.
 */
export interface HttpRequest {
  title: string;
  name?: string;
  method: string;
  /** With the variables still in: they are resolved when the request is sent, after the earlier answers. */
  url: string;
  headers: [string, string][];
  body?: string;
}

export function parseHttpFile(text: string): { variables: Map<string, string>; requests: HttpRequest[] } {
  const variables = new Map<string, string>();
  const requests: HttpRequest[] = [];
  for (const block of text.split(/^###/m)) {
    const lines = block.split('\n');
    const title = lines[0]!.trim();
    let name: string | undefined;
    let i = 1;
    let requestLine: string | undefined;
    for (; i < lines.length; i++) {
      const line = lines[i]!.trim();
      const variable = /^@([\w-]+)\s*=\s*(.*)$/.exec(line);
      const named = /^(?:#|\/\/)\s*@name\s+([\w-]+)$/.exec(line);
      if (variable) variables.set(variable[1]!, variable[2]!.trim());
      else if (named) name = named[1];
      else if (line === '' || line.startsWith('#') || line.startsWith('//')) continue;
      else {
        requestLine = line;
        break;
      }
    }
    if (!requestLine) continue;
    const [method, url] = requestLine.split(/\s+/);
    const headers: [string, string][] = [];
    for (i++; i < lines.length && lines[i]!.trim() !== ''; i++) {
      const header = /^([\w-]+):\s*(.*)$/.exec(lines[i]!.trim());
      if (!header) throw new Error(`not a header in "${title}": ${lines[i]}`);
      headers.push([header[1]!, header[2]!]);
    }
    const body = lines
      .slice(i + 1)
      .join('\n')
      .trim();
    requests.push({ title, name, method: method!, url: url!, headers, ...(body ? { body } : {}) });
  }
  return { variables, requests };
}

/** Follows `$.a.b[0].c` into a parsed JSON body. */
function jsonPath(value: unknown, path: string): unknown {
  if (!path.startsWith('$')) throw new Error(`unsupported path ${path}`);
  let current = value;
  for (const [, key, index] of path.slice(1).matchAll(/\.([\w-]+)|\[(\d+)\]/g)) {
    current = (current as Record<string, unknown>)[key ?? Number(index)];
  }
  return current;
}

export function resolveVariables(text: string, variables: Map<string, string>, answers: Map<string, unknown>, now: Date): string {
  return text.replace(/\{\{\s*([^}]+?)\s*\}\}/g, (_match, expression: string) => {
    const datetime = /^\$datetime iso8601(?: (-?\d+) ([dhm]))?$/.exec(expression);
    if (datetime) {
      const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[datetime[2] ?? 'd']!;
      return new Date(now.getTime() + Number(datetime[1] ?? 0) * unit).toISOString();
    }
    const fromAnswer = /^([\w-]+)\.response\.body\.(\$.*)$/.exec(expression);
    if (fromAnswer) {
      if (!answers.has(fromAnswer[1]!)) throw new Error(`no earlier request named ${fromAnswer[1]}`);
      return String(jsonPath(answers.get(fromAnswer[1]!), fromAnswer[2]!));
    }
    const value = variables.get(expression);
    if (value === undefined) throw new Error(`unknown variable {{${expression}}}`);
    return resolveVariables(value, variables, answers, now);
  });
}
