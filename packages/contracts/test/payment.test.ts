/**
 * Paid services settle in trustchain balances: the invoke pair carries the price as value, the caller's chain pays it
 * in the proposal and the host's receives it in the agreement, and the host's ledger refuses a payment the caller's
 * chain cannot make.
 */
import { toHex } from '@constellation/crypto'
import {
  advanceHead,
  type ChainHead,
  createGenesisBlock,
  createLedger,
  createMemoryBlockStore,
  EMPTY_CHAIN_HEAD,
  PayloadRegistry,
  readChainHead,
  signBlock,
  TRANSFER,
  ValidationReason,
  withValue,
} from '@constellation/trustchain'
import { describe, expect, it } from 'vitest'
import { ContractErrorCode, createCaller, createContractHost, inThreadExecutor, type InvokePayload, registerContractPayloads } from '../src/index.js'
import { tokenContract } from './fixtures/contracts.js'
import { crypto, executor, fixedNow, keyPair } from './helpers.js'

const headAfter = (genesis: ReturnType<typeof createGenesisBlock>): ChainHead => advanceHead(crypto, EMPTY_CHAIN_HEAD, genesis)

/** A host (opening balance 50) whose ledger must accept every pair, and a caller (opening balance `balance`) it knows. */
async function market(options: { price: number; balance: number; claimedBalance?: number; seed: number }) {
  const store = createMemoryBlockStore({ crypto })
  const ledger = createLedger({ crypto, store, registry: registerContractPayloads(new PayloadRegistry([TRANSFER])) })
  const hostKeys = keyPair(options.seed)
  const callerKeys = keyPair(options.seed + 1)
  const hostGenesis = createGenesisBlock({ crypto, keyPair: hostKeys }, { balance: 50, timestamp: 1 })
  const callerGenesis = createGenesisBlock({ crypto, keyPair: callerKeys }, { balance: options.balance, timestamp: 1 })
  expect((await ledger.ingest([hostGenesis, callerGenesis])).map((outcome) => outcome.status)).toEqual(['stored', 'stored'])
  const host = createContractHost({
    crypto,
    keyPair: hostKeys,
    executor: inThreadExecutor(executor()),
    price: options.price,
    now: fixedNow,
    head: headAfter(hostGenesis),
    ledger,
  })
  // A caller may believe (or claim) a balance its chain does not hold: the host's ledger is what checks it.
  const head = { ...headAfter(callerGenesis), balance: options.claimedBalance ?? options.balance }
  const caller = createCaller({ crypto, keyPair: callerKeys, now: fixedNow, head })
  const token = tokenContract(toHex(caller.publicKey))
  const deployed = await caller.deploy(host, token)
  const stored = async () => [(await readChainHead(crypto, store, caller.publicKey)).balance, (await readChainHead(crypto, store, host.publicKey)).balance]
  return { host, caller, token, deployed, store, stored }
}

describe('paid services settle in the balances', () => {
  it("a paid invoke moves the price from the caller's chain to the host's, and the ledger holds the pair", async () => {
    const { host, caller, token, stored } = await market({ price: 5, balance: 100, seed: 40 })
    const paid = await caller.invoke(host, token, { to: 'acct001', amount: 10 })
    expect((paid.proposal.payload as unknown as InvokePayload).value).toEqual({ amount: 5, balance: 95 })
    expect(paid.record.value).toEqual({ amount: 5, balance: 95 })
    expect((paid.agreement.payload as unknown as InvokePayload).value).toEqual({ amount: 5, balance: 55 })
    expect([caller.head.balance, host.head.balance]).toEqual([95, 55])
    expect(await stored()).toEqual([95, 55])
    await caller.invoke(host, token, { to: 'acct001', amount: 10 })
    expect(await stored()).toEqual([90, 60])
    await host.close()
  })

  it('an underpaying invoke is refused and moves nothing', async () => {
    const { host, caller, deployed, stored } = await market({ price: 5, balance: 100, seed: 42 })
    const quote = await host.quote({ contract: deployed.id, caller: caller.publicKey, input: { to: 'acct002', amount: 1 }, timestamp: fixedNow(), seed: '01' })
    const underpaid = signBlock(crypto, keyPair(43), {
      publicKey: caller.publicKey,
      sequenceNumber: caller.head.sequenceNumber + 1,
      linkPublicKey: host.publicKey,
      linkSequenceNumber: 0,
      previousHash: caller.head.hash,
      timestamp: fixedNow(),
      type: 'tx',
      payload: withValue(caller.head, quote, 4) as never,
    })
    const before = { head: host.head, state: host.state(deployed.id) }
    await expect(host.countersign(underpaid)).rejects.toMatchObject({ code: ContractErrorCode.PAYMENT_REQUIRED, detail: { price: 5, paid: 4 } })
    expect({ head: host.head, state: host.state(deployed.id) }).toEqual(before)
    expect(await stored()).toEqual([100, 50])
    await host.close()
  })

  it("an invoke the caller cannot afford is refused: by the caller, and by the host's ledger when the caller claims more than it holds", async () => {
    const honest = await market({ price: 5, balance: 4, seed: 44 })
    const honestHead = honest.caller.head
    await expect(honest.caller.invoke(honest.host, honest.token, { to: 'acct001', amount: 1 })).rejects.toMatchObject({
      code: ContractErrorCode.PAYMENT_REQUIRED,
    })
    expect(honest.caller.head).toEqual(honestHead)
    await honest.host.close()

    const lying = await market({ price: 5, balance: 4, claimedBalance: 100, seed: 46 })
    const hostHead = lying.host.head
    const refusal = lying.caller.invoke(lying.host, lying.token, { to: 'acct001', amount: 1 })
    await expect(refusal).rejects.toMatchObject({ code: ContractErrorCode.TRANSACTION_REJECTED })
    const error: unknown = await refusal.then(
      () => undefined,
      (caught: unknown) => caught,
    )
    expect((error as { detail: { reasons?: string[] } }).detail.reasons).toContain(ValidationReason.INSUFFICIENT_BALANCE)
    expect(lying.host.head).toEqual(hostHead)
    expect(lying.host.state(lying.deployed.id)).toEqual(lying.token.initialState)
    expect(await lying.stored()).toEqual([4, 50])
    await lying.host.close()
  })

  it('a free service carries no value and moves nothing', async () => {
    const { host, caller, token, stored } = await market({ price: 0, balance: 100, seed: 48 })
    const free = await caller.invoke(host, token, { to: 'acct001', amount: 10 })
    expect('value' in free.record).toBe(false)
    expect('value' in (free.agreement.payload as object)).toBe(false)
    expect([caller.head.balance, host.head.balance]).toEqual([100, 50])
    expect(await stored()).toEqual([100, 50])
    await host.close()
  })
})
