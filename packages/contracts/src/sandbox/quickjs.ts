/** Loads the QuickJS WebAssembly module (the release build without asyncify) once per thread. */
import { newQuickJSWASMModule, type QuickJSWASMModule, RELEASE_SYNC } from 'quickjs-emscripten'

let loading: Promise<QuickJSWASMModule> | undefined

export function loadQuickJs(): Promise<QuickJSWASMModule> {
  loading ??= newQuickJSWASMModule(RELEASE_SYNC)
  return loading
}
