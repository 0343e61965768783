/**
 * A contract's type signature as people read it. Deploy transactions record each of input, output and state as a
 * type description (`{ kind: 'struct', fields: { to: { kind: 'string' } } }`, see @constellation/contracts); the
 * explorer writes them in TypeScript-like notation: `{ to: string }`, `integer[]`, `'a' | 'b'`.
 */

/** A contract's signature as the API serves it: three type descriptions, unvalidated JSON. */
export interface ContractSignature {
  readonly input: unknown
  readonly output: unknown
  readonly state: unknown
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** One type description in TypeScript-like notation; a shape it does not know is shown as `unknown?` rather than guessed. */
export function formatType(description: unknown): string {
  if (!isRecord(description)) return 'unknown?'
  switch (description.kind) {
    case 'null':
    case 'boolean':
    case 'integer':
    case 'number':
    case 'string':
    case 'unknown':
      return description.kind
    case 'literal':
      return JSON.stringify(description.value) ?? 'unknown?'
    case 'array': {
      const items = formatType(description.items)
      return description.items !== undefined && isRecord(description.items) && description.items.kind === 'union' ? `(${items})[]` : `${items}[]`
    }
    case 'record':
      return `{ [key: string]: ${formatType(description.values)} }`
    case 'struct': {
      if (!isRecord(description.fields)) return 'unknown?'
      const fields = Object.entries(description.fields).map(
        ([name, type]) => `${/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name)}: ${formatType(type)}`,
      )
      return fields.length === 0 ? '{}' : `{ ${fields.join('; ')} }`
    }
    case 'union':
      return Array.isArray(description.members) && description.members.length > 0
        ? description.members.map((member) => formatType(member)).join(' | ')
        : 'never'
    default:
      return 'unknown?'
  }
}

/** `(input: integer, state: integer) => integer`: what an invocation takes and gives. */
export function formatSignature(signature: ContractSignature): string {
  return `(input: ${formatType(signature.input)}, state: ${formatType(signature.state)}) => ${formatType(signature.output)}`
}
