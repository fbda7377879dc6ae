/**
 * A small IAM policy evaluator: enough of AWS's rules to decide the calls pressroom's
 * functions make against the policies its template gives them, and who may assume a role.
 *
 * - An explicit Deny wins, then an Allow; with neither the request is implicitly denied.
 * - Action and NotAction match case-insensitively, `*` and `?` as wildcards.
 * - Resource and NotResource match case-sensitively with the same wildcards.
 * - Principal and NotPrincipal: `*`, `{ Service }`, `{ AWS }` (an ARN or an account id).
 * - Conditions: every operator must hold, every key of an operator must hold, and a key
 *   holds when one of its values matches. String, Arn, Numeric, Bool and Null operators,
 *   with `IfExists`, and the `ForAnyValue:` / `ForAllValues:` set prefixes. A key missing
 *   from the request fails a positive operator and satisfies a negated one (`...Not...`),
 *   as AWS documents.
 */

export type OneOrMany<T> = T | T[];

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: OneOrMany<string>;
  NotAction?: OneOrMany<string>;
  Resource?: OneOrMany<string>;
  NotResource?: OneOrMany<string>;
  Principal?: '*' | Record<string, OneOrMany<string>>;
  NotPrincipal?: Record<string, OneOrMany<string>>;
  Condition?: Record<string, Record<string, OneOrMany<string | number | boolean>>>;
}

export interface PolicyDocument {
  Version?: string;
  Statement: OneOrMany<PolicyStatement>;
}

/** Who asks: a service principal (`scheduler.amazonaws.com`) or an AWS principal's ARN. */
export interface Principal {
  service?: string;
  arn?: string;
}

export interface AccessRequest {
  action: string;
  /** Omitted for a trust policy (sts:AssumeRole has no Resource). */
  resource?: string;
  principal?: Principal;
  /** Condition keys of the request, e.g. `aws:SourceArn`, `s3:prefix`. */
  context?: Record<string, OneOrMany<string>>;
}

export interface Decision {
  effect: 'allow' | 'explicit-deny' | 'implicit-deny';
  /** The statement that decided (the deny, or the first allow). */
  statement?: PolicyStatement;
}

const list = <T>(value: OneOrMany<T> | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

const escapeRegExp = (text: string) => text.replace(/[.+^${}()|[\]\\]/g, '\\$&');

/** An IAM wildcard pattern (`*`, `?`) as a whole-string regular expression. */
export function wildcard(pattern: string, ignoreCase = false): RegExp {
  const body = escapeRegExp(pattern).replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, ignoreCase ? 'is' : 's');
}

const matchesAny = (patterns: string[], value: string, ignoreCase: boolean) =>
  patterns.some((p) => wildcard(p, ignoreCase).test(value));

function principalMatches(spec: PolicyStatement['Principal'], who: Principal | undefined): boolean {
  if (spec === '*') return true;
  if (!spec || !who) return false;
  if (Object.hasOwn(spec, 'AWS') && list(spec.AWS).includes('*')) return true;
  if (who.service && list(spec.Service).includes(who.service)) return true;
  if (who.arn) {
    const account = who.arn.split(':')[4];
    return list(spec.AWS).some((p) => p === who.arn || p === account || p === `arn:aws:iam::${account}:root`);
  }
  return false;
}

type Comparator = (actual: string, expected: string) => boolean;

const comparators: Record<string, Comparator> = {
  StringEquals: (a, e) => a === e,
  StringEqualsIgnoreCase: (a, e) => a.toLowerCase() === e.toLowerCase(),
  StringLike: (a, e) => wildcard(e).test(a),
  ArnEquals: (a, e) => a === e,
  ArnLike: (a, e) => wildcard(e).test(a),
  NumericEquals: (a, e) => Number(a) === Number(e),
  NumericLessThan: (a, e) => Number(a) < Number(e),
  NumericLessThanEquals: (a, e) => Number(a) <= Number(e),
  NumericGreaterThan: (a, e) => Number(a) > Number(e),
  NumericGreaterThanEquals: (a, e) => Number(a) >= Number(e),
  Bool: (a, e) => a.toLowerCase() === String(e).toLowerCase(),
};

/** `StringNotLike` → `StringLike`, negated. */
const negations: Record<string, string> = {
  StringNotEquals: 'StringEquals',
  StringNotEqualsIgnoreCase: 'StringEqualsIgnoreCase',
  StringNotLike: 'StringLike',
  ArnNotEquals: 'ArnEquals',
  ArnNotLike: 'ArnLike',
  NumericNotEquals: 'NumericEquals',
};

export class UnsupportedConditionError extends Error {
  override name = 'UnsupportedConditionError';
}

function conditionHolds(
  operatorName: string,
  key: string,
  expected: string[],
  context: Record<string, OneOrMany<string>>,
): boolean {
  let operator = operatorName;
  let set: 'any' | 'all' | undefined;
  if (operator.startsWith('ForAnyValue:')) [set, operator] = ['any', operator.slice(12)];
  else if (operator.startsWith('ForAllValues:')) [set, operator] = ['all', operator.slice(13)];
  const ifExists = operator.endsWith('IfExists');
  if (ifExists) operator = operator.slice(0, -'IfExists'.length);
  // Condition key names are case-insensitive (`AWS:SourceArn` is `aws:SourceArn`).
  const found = Object.keys(context).find((k) => k.toLowerCase() === key.toLowerCase());
  const present = found !== undefined;
  const actual = found === undefined ? [] : list(context[found]);
  if (operator === 'Null') {
    // Null: true means "the key is absent".
    return expected.some((e) => String(e).toLowerCase() === String(!present));
  }
  const negated = negations[operator];
  const compare = comparators[negated ?? operator];
  if (!compare) throw new UnsupportedConditionError(`condition operator ${operatorName} is not supported`);
  if (!present) return ifExists || negated !== undefined || set === 'all';
  const one = (a: string) => {
    const hit = expected.some((e) => compare(a, String(e)));
    return negated ? !hit : hit;
  };
  if (set === 'all') return actual.every(one);
  return actual.some(one);
}

function conditionsHold(statement: PolicyStatement, request: AccessRequest): boolean {
  const context = request.context ?? {};
  return Object.entries(statement.Condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys).every(([key, values]) =>
      conditionHolds(operator, key, list(values).map(String), context),
    ),
  );
}

/** Whether a statement applies to the request (whatever its effect). */
export function statementApplies(statement: PolicyStatement, request: AccessRequest): boolean {
  if (statement.Action !== undefined && !matchesAny(list(statement.Action), request.action, true))
    return false;
  if (statement.NotAction !== undefined && matchesAny(list(statement.NotAction), request.action, true))
    return false;
  if (request.resource !== undefined) {
    if (statement.Resource !== undefined && !matchesAny(list(statement.Resource), request.resource, false))
      return false;
    if (
      statement.NotResource !== undefined &&
      matchesAny(list(statement.NotResource), request.resource, false)
    )
      return false;
  }
  if (statement.Principal !== undefined && !principalMatches(statement.Principal, request.principal))
    return false;
  if (statement.NotPrincipal !== undefined && principalMatches(statement.NotPrincipal, request.principal))
    return false;
  return conditionsHold(statement, request);
}

/** The decision of a set of policies (a role's, or a trust policy) on one request. */
export function evaluate(documents: PolicyDocument[], request: AccessRequest): Decision {
  const statements = documents.flatMap((d) => list(d.Statement));
  const deny = statements.find((s) => s.Effect === 'Deny' && statementApplies(s, request));
  if (deny) return { effect: 'explicit-deny', statement: deny };
  const allow = statements.find((s) => s.Effect === 'Allow' && statementApplies(s, request));
  return allow ? { effect: 'allow', statement: allow } : { effect: 'implicit-deny' };
}
