/**
 * Access rules (protocol 13.6): the ACL_FILE syntax, parsed into rules, and
 * the one question the access-control hooks ask of them: may this client read
 * (subscribe) or write (publish; send to a `#id` channel; make a `$name`
 * request) this channel? Deny wins over allow; what no rule allows is refused.
 *
 *     # lines before the first `client` line apply to every client
 *     readwrite users/%c/*
 *     read news/*
 *     deny write news/*
 *     client ops
 *     write news/*
 */

export type Access = 'read' | 'write';

/** A channel name, or a prefix ending in `*`; `%c` stands for the asking client's id. */
export interface Pattern {
  readonly text: string;
  /** The pattern without its final `*`, split at every `%c`. */
  readonly parts: readonly string[];
  readonly prefix: boolean;
}

export interface Rule {
  readonly read: boolean;
  readonly write: boolean;
  readonly deny: boolean;
  readonly pattern: Pattern;
  /** Line of the file, for the operator. */
  readonly line: number;
}

/** Longest pattern, characters: channel names are at most MAX_CHANNEL_LENGTH (at most 1024) anyway. */
export const MAX_PATTERN_LENGTH = 1024;

export class AclError extends Error {
  override name = 'AclError';
}

/** Parses one pattern; throws AclError with the reason. */
export function parsePattern(text: string): Pattern {
  if (text === '') throw new AclError('empty pattern');
  if (text.length > MAX_PATTERN_LENGTH) throw new AclError(`pattern over ${MAX_PATTERN_LENGTH} characters`);
  const prefix = text.endsWith('*');
  const body = prefix ? text.slice(0, -1) : text;
  if (body.includes('*')) throw new AclError(`'*' may only end a pattern: '${text}'`);
  return { text, parts: body.split('%c'), prefix };
}

/** Whether `channel` matches `pattern` for `clientId` (its `%c`). Names are compared exactly (protocol 6.1). */
export function matches(pattern: Pattern, channel: string, clientId: string): boolean {
  const expected = pattern.parts.length === 1 ? pattern.parts[0]! : pattern.parts.join(clientId);
  return pattern.prefix ? channel.startsWith(expected) : channel === expected;
}

export class AclRules {
  constructor(
    /** Rules before the first `client` line. */
    readonly everyone: readonly Rule[],
    /** Rules of each `client <id>` section (several sections of one id add up). */
    readonly clients: ReadonlyMap<string, readonly Rule[]>,
  ) {}

  get ruleCount(): number {
    let count = this.everyone.length;
    for (const rules of this.clients.values()) count += rules.length;
    return count;
  }

  /** Deny wins over allow; without an allowing rule, no. */
  allows(clientId: string, access: Access, channel: string): boolean {
    const general = check(this.everyone, clientId, access, channel);
    if (general === 'deny') return false;
    const own = this.clients.get(clientId);
    const specific = own ? check(own, clientId, access, channel) : 'none';
    if (specific === 'deny') return false;
    return general === 'allow' || specific === 'allow';
  }
}

function check(rules: readonly Rule[], clientId: string, access: Access, channel: string): 'allow' | 'deny' | 'none' {
  let verdict: 'allow' | 'none' = 'none';
  for (const rule of rules) {
    if (!rule[access] || !matches(rule.pattern, channel, clientId)) continue;
    if (rule.deny) return 'deny';
    verdict = 'allow';
  }
  return verdict;
}

const accesses: Record<string, { read: boolean; write: boolean }> = {
  read: { read: true, write: false },
  write: { read: false, write: true },
  readwrite: { read: true, write: true },
};

/** Splits off the first word of a line; the rest (trimmed) is the argument, spaces inside included. */
function firstWord(text: string): [string, string] {
  const match = /^(\S+)\s*(.*)$/.exec(text);
  return match ? [match[1]!, match[2]!.trim()] : ['', ''];
}

/**
 * Parses an ACL file. Blank lines and lines starting with `#` are skipped (a
 * rule always starts with a word, so `write #bob` is a rule). Throws AclError
 * naming `origin` and the line.
 */
export function parseAcl(text: string, origin: string): AclRules {
  const everyone: Rule[] = [];
  const clients = new Map<string, Rule[]>();
  let section: Rule[] = everyone;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const fail = (reason: string): never => {
      throw new AclError(`${origin}:${line}: ${reason}`);
    };
    const [keyword, rest] = firstWord(trimmed);
    if (keyword === 'client') {
      if (rest === '') fail("'client' needs a client id");
      section = clients.get(rest) ?? [];
      clients.set(rest, section);
      return;
    }
    let deny = false;
    let access = accesses[keyword];
    let argument = rest;
    if (keyword === 'deny') {
      const [what, pattern] = firstWord(rest);
      access = accesses[what];
      if (!access) fail("'deny' needs read, write or readwrite, then a pattern");
      deny = true;
      argument = pattern;
    } else if (!access) {
      fail(`unknown rule '${keyword.slice(0, 40)}': expected read, write, readwrite, deny or client`);
    }
    if (argument === '') fail(`'${keyword}' needs a pattern`);
    let pattern: Pattern;
    try {
      pattern = parsePattern(argument);
    } catch (error) {
      return fail((error as Error).message);
    }
    section.push({ ...access!, deny, pattern, line });
  });
  return new AclRules(everyone, clients);
}
