/** The explorer's entry point: opens the live stream and renders the app into the page served at /explorer/. */
import { render } from 'preact'
import { App } from './app.js'
import { LiveStream } from './browser/live-stream.js'

const root = document.getElementById('app')
if (root === null) throw new Error('the explorer page has no #app element')
const live = new LiveStream('/v1/events')
live.start()
root.replaceChildren()
render(<App live={live} />, root)
