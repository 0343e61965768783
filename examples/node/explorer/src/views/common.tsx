/** Small pieces every view uses: shortened keys with their full value at hand, loading and error notes, headings. */
import type { ComponentChildren } from 'preact'
import { useEffect } from 'preact/hooks'
import type { ApiFailure } from '../browser/api.js'
import type { ViewState } from '../browser/use-view.js'
import { shortHex } from '../model/format.js'

/** A key or hash shortened for the eye; the full value is its title and what a screen reader or a copy gets. */
export function Hex({ value, href, full = false }: { readonly value: string; readonly href?: string; readonly full?: boolean }) {
  const text = full ? value : shortHex(value)
  const body = (
    <code class="hex" title={value}>
      {text}
    </code>
  )
  return href === undefined ? body : <a href={href}>{body}</a>
}

export function Loading({ what }: { readonly what: string }) {
  return <p class="note">Loading {what}…</p>
}

export function ErrorNote({ error, what }: { readonly error: ApiFailure; readonly what: string }) {
  return (
    <p class="note note--error" role="alert">
      Could not load {what}: {error.code === 'UNREACHABLE' ? 'the node does not answer' : `${error.code} — ${error.message}`}
    </p>
  )
}

/** The view's heading; it also names the page in the window title. */
export function PageHeading({ children, title }: { readonly children: ComponentChildren; readonly title: string }) {
  useEffect(() => {
    document.title = `${title} — Constellation explorer`
  }, [title])
  return (
    <h1 id="page-heading" tabIndex={-1}>
      {children}
    </h1>
  )
}

/** A list of labelled facts (`<dl>`), in columns on a wide screen; the terms in `wide` take a whole row. */
export function Facts({
  items,
  label,
  wide = [],
}: {
  readonly items: readonly (readonly [string, ComponentChildren])[]
  readonly label?: string
  readonly wide?: readonly string[]
}) {
  return (
    <dl class="facts" aria-label={label}>
      {items.map(([term, value]) => (
        <div class={wide.includes(term) ? 'facts__item facts__item--wide' : 'facts__item'} key={term}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  )
}

/** A list of keys, each shortened. */
export function HexList({ values, hrefOf }: { readonly values: readonly string[]; readonly hrefOf?: (value: string) => string }) {
  if (values.length === 0) return <span class="muted">none</span>
  return (
    <ul class="hex-list">
      {values.map((value) => (
        <li key={value}>
          <Hex value={value} {...(hrefOf === undefined ? {} : { href: hrefOf(value) })} />
        </li>
      ))}
    </ul>
  )
}

/** A loaded view's content, or why there is none yet: loading, or the node's error (the last answer stays shown). */
export function Loaded<T>({
  state,
  what,
  children,
}: {
  readonly state: Pick<ViewState<T>, 'data' | 'error'>
  readonly what: string
  readonly children: (data: T) => ComponentChildren
}) {
  return (
    <>
      {state.error !== undefined && <ErrorNote error={state.error} what={what} />}
      {state.data === undefined ? state.error === undefined && <Loading what={what} /> : children(state.data)}
    </>
  )
}

export interface Column {
  readonly label: string
  /** Right-aligned, tabular figures. */
  readonly numeric?: boolean
}

/** A table with its caption and column headers, scrolling sideways inside its panel on a narrow screen. */
export function DataTable({
  caption,
  columns,
  children,
}: {
  readonly caption: ComponentChildren
  readonly columns: readonly (string | Column)[]
  readonly children: ComponentChildren
}) {
  return (
    <div class="table-scroll">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => {
              const { label, numeric = false } = typeof column === 'string' ? { label: column } : column
              return (
                <th scope="col" key={label} class={numeric ? 'num' : undefined}>
                  {label}
                </th>
              )
            })}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  )
}
