/**
 * Finds a key given twice in one object of a JSON text. `JSON.parse` keeps the last of them silently, so
 * `{"amount": 1, "amount": 1000}` would mean whatever the parser last saw, and a proxy or a log that read the first
 * one would disagree with the node; the API refuses such bodies instead (see api-server.ts). The text is scanned
 * once, after `JSON.parse` has accepted it, so only well-formed JSON reaches here.
 */

/** The first key that appears twice in one object, with the path of that object (`transfers.3`), if any. */
export function firstDuplicateKey(text: string): { readonly key: string; readonly path: string } | undefined {
  /** One open object (its keys so far) or array (its next index), with its place under its parent. */
  interface Open {
    readonly keys?: Set<string>
    index: number
    readonly path: string
  }
  const stack: Open[] = []
  /** The key just read in the innermost object, which names the value that follows it. */
  let pendingKey: string | undefined
  const childPath = (): string => {
    const parent = stack.at(-1)
    if (parent === undefined) return ''
    const name = parent.keys === undefined ? String(parent.index) : (pendingKey ?? '')
    return parent.path === '' ? name : `${parent.path}.${name}`
  }
  for (let i = 0; i < text.length; i++) {
    const char = text[i]
    if (char === '"') {
      const end = stringEnd(text, i)
      const top = stack.at(-1)
      // A string is a key when it is followed by a colon inside an object.
      let next = end + 1
      while (next < text.length && /\s/.test(text[next] as string)) next++
      if (top?.keys !== undefined && text[next] === ':') {
        const key = JSON.parse(text.slice(i, end + 1)) as string
        if (top.keys.has(key)) return { key, path: top.path }
        top.keys.add(key)
        pendingKey = key
        i = next
        continue
      }
      i = end
    } else if (char === '{' || char === '[') {
      stack.push({ ...(char === '{' && { keys: new Set<string>() }), index: 0, path: childPath() })
    } else if (char === '}' || char === ']') {
      stack.pop()
    } else if (char === ',') {
      const top = stack.at(-1)
      if (top !== undefined && top.keys === undefined) top.index++
    }
  }
  return undefined
}

/** The index of the quote that closes the string opening at `start`. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++
    else if (text[i] === '"') return i
  }
  return text.length - 1
}
