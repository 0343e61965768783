/** A host checks a deploy without agreeing, and a restarted host rebuilds its contracts from its own agreements. */
import { encodeCanonical, toHex } from '@constellation/crypto'
import { type ChainHead, EMPTY_CHAIN_HEAD, type HalfBlock } from '@constellation/trustchain'
import { describe, expect, it } from 'vitest'
import {
  ContractErrorCode,
  contractId,
  createCaller,
  createContractHost,
  defineContract,
  DEPLOY_KIND,
  describeSignature,
  inThreadExecutor,
  Types,
} from '../src/index.js'
import { counterContract, tokenContract } from './fixtures/contracts.js'
import { crypto, executor, fixedNow, keyPair } from './helpers.js'

const hostKeys = keyPair(21)
const newHost = (head?: ChainHead) =>
  createContractHost({ crypto, keyPair: hostKeys, executor: inThreadExecutor(executor()), now: fixedNow, ...(head === undefined ? {} : { head }) })
const deployPayload = (definition: typeof counterContract) => ({
  kind: DEPLOY_KIND,
  contract: crypto.sha256(new TextEncoder().encode(definition.code)),
  code: definition.code,
  signature: describeSignature(definition.signature),
  initialState: encodeCanonical(definition.initialState),
})

describe('checkDeploy', () => {
  it('answers with the contract id, or the error deploy would give, and agrees to nothing', async () => {
    const host = newHost()
    expect(await host.checkDeploy(deployPayload(counterContract))).toBe(contractId(crypto, counterContract.code))
    const broken = defineContract({ code: 'function invoke(', input: Types.null, output: Types.null, state: Types.null, initialState: null })
    await expect(host.checkDeploy(deployPayload(broken as never))).rejects.toMatchObject({ code: ContractErrorCode.SYNTAX_ERROR })
    await expect(host.checkDeploy({ ...deployPayload(counterContract), contract: new Uint8Array(32) })).rejects.toMatchObject({
      code: ContractErrorCode.CODE_HASH_MISMATCH,
    })
    await expect(host.checkDeploy({ kind: DEPLOY_KIND })).rejects.toMatchObject({ code: ContractErrorCode.TRANSACTION_REJECTED })
    expect(host.head).toEqual(EMPTY_CHAIN_HEAD)
    expect(host.contract(contractId(crypto, counterContract.code))).toBeUndefined()
    await host.close()
  })
})

describe('restore', () => {
  it('rebuilds contracts, states and invocation counts from the host agreements, appending nothing', async () => {
    const host = newHost()
    const alice = createCaller({ crypto, keyPair: keyPair(22), now: fixedNow })
    const token = tokenContract(toHex(alice.publicKey), 3)
    const agreements: HalfBlock[] = []
    agreements.push((await alice.deploy(host, counterContract)).agreement, (await alice.deploy(host, token)).agreement)
    for (const amount of [5, 7]) agreements.push((await alice.invoke(host, counterContract, amount)).agreement)
    agreements.push((await alice.invoke(host, token, { to: 'acct001', amount: 10 })).agreement)
    const head = host.head
    await host.close()

    const restarted = newHost(head)
    await restarted.restore(agreements)
    expect(restarted.head).toBe(head)
    expect(restarted.state(contractId(crypto, counterContract.code))).toBe(12)
    expect(restarted.contract(contractId(crypto, token.code))?.invocations).toBe(1)
    // It carries on from the restored state: the next invoke starts where the last committed one ended.
    const next = await alice.invoke(restarted, counterContract, 1)
    expect(next.output).toBe(13)
    expect(next.agreement.sequenceNumber).toBe(head.sequenceNumber + 1)
    await restarted.close()
  })

  it('refuses a record that does not follow from the restored state, and blocks that are not its own agreements', async () => {
    const host = newHost()
    const alice = createCaller({ crypto, keyPair: keyPair(23), now: fixedNow })
    const deploy = await alice.deploy(host, counterContract)
    const first = await alice.invoke(host, counterContract, 5)
    const second = await alice.invoke(host, counterContract, 6)
    await host.close()
    const restarted = newHost()
    // The second invocation without the first: its recorded starting state is not the restored one.
    await expect(restarted.restore([deploy.agreement, second.agreement])).rejects.toMatchObject({ code: ContractErrorCode.TRANSACTION_REJECTED })
    const other = newHost()
    await expect(other.restore([first.proposal])).rejects.toMatchObject({ code: ContractErrorCode.TRANSACTION_REJECTED })
    await Promise.all([restarted.close(), other.close()])
  })
})
