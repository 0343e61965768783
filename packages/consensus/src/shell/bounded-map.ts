/** A bounded map that forgets its oldest entries: `key` is set (as the newest) and the oldest goes past `capacity`. */
export function remember<K, V>(map: Map<K, V>, key: K, value: V, capacity: number): void {
  map.delete(key)
  map.set(key, value)
  if (map.size > capacity) map.delete(map.keys().next().value as K)
}
