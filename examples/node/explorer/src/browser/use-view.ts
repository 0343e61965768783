/**
 * Preact hooks that tie views to the node: `useView` loads a route's JSON and loads it again when a live event
 * says it changed, or when the stream opens again after a break (its `hello`: events may have been missed
 * meanwhile) — at most once per `MIN_REFRESH_MS`, keeping the last answer on screen meanwhile; `useLiveEvents`
 * hands a view the live events themselves.
 */
import { createContext } from 'preact'
import { useContext, useEffect, useRef, useState } from 'preact/hooks'
import { ApiFailure, getView } from './api.js'
import type { ExplorerEvent } from './api-types.js'
import type { LiveStream } from './live-stream.js'

/** A busy network certifies several rounds a second: views refresh no more often than this. */
const MIN_REFRESH_MS = 1000

export const LiveContext = createContext<LiveStream | undefined>(undefined)

export function useLiveEvents(listener: (event: ExplorerEvent) => void): void {
  const live = useContext(LiveContext)
  const current = useRef(listener)
  current.current = listener
  useEffect(() => live?.subscribe((event) => current.current(event)), [live])
}

export interface ViewState<T> {
  readonly data: T | undefined
  readonly error: ApiFailure | undefined
}

export function useView<T extends object>(path: string, fields: readonly (keyof T & string)[], refreshOn?: (event: ExplorerEvent) => boolean): ViewState<T> {
  const [state, setState] = useState<{ readonly path: string; readonly data: T | undefined; readonly error: ApiFailure | undefined }>({
    path,
    data: undefined,
    error: undefined,
  })
  const refresher = useRef<() => void>(() => {})
  const fieldList = fields.join(',')

  useEffect(() => {
    const controller = new AbortController()
    let inFlight = false
    let again = false
    let lastStarted = 0
    let timer: ReturnType<typeof setTimeout> | undefined
    const load = async () => {
      inFlight = true
      again = false
      lastStarted = Date.now()
      try {
        const data = await getView<T>(path, fieldList.split(',') as (keyof T & string)[], controller.signal)
        if (!controller.signal.aborted) setState({ path, data, error: undefined })
      } catch (error) {
        if (controller.signal.aborted) return
        const failure = error instanceof ApiFailure ? error : new ApiFailure(0, 'UNREACHABLE', String(error))
        setState((previous) => ({ path, data: previous.path === path ? previous.data : undefined, error: failure }))
      } finally {
        inFlight = false
        if (again && !controller.signal.aborted) refresh()
      }
    }
    const refresh = () => {
      if (inFlight) {
        again = true
        return
      }
      if (timer !== undefined) return
      timer = setTimeout(
        () => {
          timer = undefined
          void load()
        },
        Math.max(0, lastStarted + MIN_REFRESH_MS - Date.now()),
      )
    }
    refresher.current = refresh
    void load()
    return () => {
      controller.abort()
      clearTimeout(timer)
    }
  }, [path, fieldList])

  useLiveEvents((event) => {
    if (event.kind === 'hello' || refreshOn?.(event) === true) refresher.current()
  })

  return state.path === path ? { data: state.data, error: state.error } : { data: undefined, error: undefined }
}
