/**
 * Two processes on 127.0.0.1 exchanging a gossip message and a request over Libp2pNetwork.
 *
 *   pnpm exec tsx --conditions=source examples/libp2p-two-processes.ts
 *
 * The first process listens on an OS-chosen port and starts the second with its address; the second dials it,
 * publishes a greeting, asks a question, and exits. Each process prints what it sees.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { loadCrypto } from '@constellation/crypto'
import { createLibp2pNetwork } from '@constellation/gossip'

const crypto = await loadCrypto()
const [role = 'first', address] = process.argv.slice(2)
const network = createLibp2pNetwork({ crypto, keyPair: crypto.generateKeyPair(), ...(address && { bootstrap: [address] }) })
await network.start()
const short = (peer: string) => peer.slice(0, 8)

if (role === 'first') {
  const greeting = new Promise<string>((resolve) => {
    network.subscribe('/example/greetings', ({ data, from }) => {
      resolve(`first: ${short(from)} says "${new TextDecoder().decode(data)}"`)
      return 'accept'
    })
  })
  // The greeting (gossip) and the question (a request) travel on different streams, so the question can arrive
  // first: it is answered once the greeting is in, which also keeps the two processes' lines in order.
  network.handle('/example/time/1', async ({ from }) => {
    await greeting
    return new TextEncoder().encode(`hello ${short(from)}, this is ${short(network.peerId)}`)
  })
  const second = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'second', network.listenAddresses()[0] ?? ''], {
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  console.log(await greeting)
  await new Promise((resolve) => second.once('exit', resolve))
  await network.stop()
  console.log('first: stopped')
} else {
  const [first] = network.peers()
  if (first === undefined) throw new Error(`could not reach ${address}`)
  await network.gossipReady([first]) // the first process is known to take gossip: a publish now reaches it
  await network.publish('/example/greetings', new TextEncoder().encode(`hi from ${short(network.peerId)}`))
  const answer = await network.request(first, '/example/time/1', new Uint8Array(0))
  console.log(`second: ${short(first)} answered "${new TextDecoder().decode(answer)}"`)
  await network.stop()
}
