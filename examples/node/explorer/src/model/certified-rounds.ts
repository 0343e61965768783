/**
 * The explorer's list of certified checkpoint rounds: the page it loads first merged with the certificates the live
 * stream brings, newest first, one row per (solar system, round), bounded. A certificate names the facilitators of
 * the round after it, so the facilitators who ran round r are read from the certificate of round r - 1 when the
 * list holds it.
 */
import type { CertificateView } from '../../../src/api/views/certificate-view.js'

/** Rows kept per solar system: older ones drop off the end (the API serves any round by number). */
export const ROUNDS_KEPT = 50

export interface RoundRow {
  readonly certificate: CertificateView
  /** Who facilitated this round (from the previous round's certificate), or null when that one is not in the list. */
  readonly facilitators: readonly string[] | null
}

export interface RoundsOfGroup {
  readonly level: number
  readonly group: string
  /** Newest first. */
  readonly rows: readonly RoundRow[]
}

const keyOf = (certificate: CertificateView) => `${certificate.level}/${certificate.group}/${certificate.round}`

/** Adds certificates to a list (a round already there is kept as it was: a certified round never changes). */
export function mergeCertificates(known: readonly CertificateView[], added: readonly CertificateView[], kept = ROUNDS_KEPT): CertificateView[] {
  const byKey = new Map(known.map((certificate) => [keyOf(certificate), certificate]))
  for (const certificate of added) if (!byKey.has(keyOf(certificate))) byKey.set(keyOf(certificate), certificate)
  const all = [...byKey.values()].sort((a, b) => a.level - b.level || a.group.localeCompare(b.group) || b.round - a.round)
  const perGroup = new Map<string, number>()
  return all.filter((certificate) => {
    const group = `${certificate.level}/${certificate.group}`
    const count = (perGroup.get(group) ?? 0) + 1
    perGroup.set(group, count)
    return count <= kept
  })
}

/** The rows to show, per solar system (lowest level first), each newest first. */
export function roundsByGroup(certificates: readonly CertificateView[]): RoundsOfGroup[] {
  const groups = new Map<string, CertificateView[]>()
  for (const certificate of certificates) {
    const key = `${certificate.level}/${certificate.group}`
    const list = groups.get(key) ?? []
    list.push(certificate)
    groups.set(key, list)
  }
  return [...groups.values()]
    .map((list) => {
      const sorted = [...list].sort((a, b) => b.round - a.round)
      const byRound = new Map(sorted.map((certificate) => [certificate.round, certificate]))
      const first = sorted[0] as CertificateView
      return {
        level: first.level,
        group: first.group,
        rows: sorted.map((certificate) => ({ certificate, facilitators: byRound.get(certificate.round - 1)?.nextFacilitators ?? null })),
      }
    })
    .sort((a, b) => a.level - b.level || a.group.localeCompare(b.group))
}
