/** The typed error of a block the ledger refuses as invalid: the rules it broke, and where it sits. */
import { toHex } from '@constellation/crypto'
import type { HalfBlock } from '../block/half-block.js'
import { TrustChainError, TrustChainErrorCode } from '../errors.js'
import { INFORMATIONAL_REASONS, type ValidationResult } from '../validation/validation-result.js'

export function invalidBlockError(block: HalfBlock, validation: ValidationResult): TrustChainError {
  // Only the broken rules; what was merely unknown stays in `validation.reasons`.
  const reasons = validation.reasons.filter((reason) => !INFORMATIONAL_REASONS.has(reason))
  return new TrustChainError(TrustChainErrorCode.INVALID_BLOCK, `invalid block: ${reasons.join(', ')}`, {
    reasons,
    publicKey: toHex(block.publicKey),
    sequenceNumber: block.sequenceNumber,
    ...(validation.payloadErrors === undefined ? {} : { payloadErrors: validation.payloadErrors }),
  })
}
