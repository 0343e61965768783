/**
 * The page's finality check (model/finality-check.ts) wired to the node's API: one checker per page load, with the
 * noble Ed25519 backend (pure JavaScript, no native or worker code), so the certificates it has verified are kept
 * while the user moves between transactions. `useFinalityCheck` runs the check for a proof once it is shown.
 */
import { createCrypto, nobleBackend } from '@constellation/crypto'
import { useEffect, useState } from 'preact/hooks'
import { type FinalityProgress, type FinalityVerdict, FinalityChecker, type ShownTransaction } from '../model/finality-check.js'
import { getView } from './api.js'
import type { RoundsPage } from './api-types.js'

let checker: FinalityChecker | undefined

function pageChecker(): FinalityChecker {
  checker ??= new FinalityChecker(createCrypto(nobleBackend), {
    genesis: () => getView<{ genesis: unknown; fingerprint: string }>('/v1/genesis', ['genesis', 'fingerprint']),
    rounds: (from, limit) => getView<RoundsPage>(`/v1/consensus/rounds?from=${from}&limit=${limit}`, ['latestRound', 'rounds']),
  })
  return checker
}

export type FinalityCheckState =
  | { readonly kind: 'checking'; readonly progress: FinalityProgress | undefined }
  | { readonly kind: 'done'; readonly verdict: FinalityVerdict }

/** The check of `proofHex` for `transaction`, while it runs and once it is done; nothing until there is a proof. */
export function useFinalityCheck(transaction: ShownTransaction, proofHex: string | undefined): FinalityCheckState | undefined {
  const [state, setState] = useState<{ readonly proof: string; readonly check: FinalityCheckState } | undefined>(undefined)
  // Checked again whenever anything shown of the transaction changes, not only its halves' hashes: the check
  // compares every shown field with the proof.
  const shown = JSON.stringify([transaction.id, transaction.from, transaction.to, transaction.amount, transaction.proposal, transaction.agreement])
  useEffect(() => {
    if (proofHex === undefined) return
    let current = true
    setState({ proof: proofHex, check: { kind: 'checking', progress: undefined } })
    void pageChecker()
      .verify(transaction, proofHex, (progress) => current && setState({ proof: proofHex, check: { kind: 'checking', progress } }))
      .then((verdict) => current && setState({ proof: proofHex, check: { kind: 'done', verdict } }))
    return () => {
      current = false
    }
    // A new object showing the same is the same transaction.
  }, [shown, proofHex])
  return state !== undefined && state.proof === proofHex ? state.check : undefined
}
