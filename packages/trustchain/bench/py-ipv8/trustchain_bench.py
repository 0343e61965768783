#!/usr/bin/env python3
"""
The reference TrustChain (py-ipv8 2.4, ipv8/attestation/trustchain) on the same workload as
@constellation/trustchain's benchmark, driven by that benchmark in the same run (bench/trustchain.bench.ts).

py-ipv8 is not part of this repository. Get version 2.4 either with `pip install pyipv8==2.4`, or as a checkout of
its 2.4 tag (`git clone --branch 2.4 https://github.com/Tribler/py-ipv8`) whose directory you name with --ipv8 or
the PYIPV8_PATH environment variable. It needs libnacl, netifaces, pyasn1 and cryptography (on Debian:
python3-libnacl, python3-netifaces, python3-pyasn1, python3-cryptography).

Usage: trustchain_bench.py WORKLOAD.json [--ipv8 PATH]

WORKLOAD.json is {"peers": N, "pairs": [[proposer, counterparty, amount], ...]}: the transfer pairs of the history,
in order. The script prints one JSON line describing itself, then answers each line "round" on its standard input
with one JSON line of rates (half-blocks per second) for:
  raw       libsodium's Ed25519 verify of each half-block's signature over its signed bytes (the baseline);
  create    building and signing every half-block of the history and packing it for the wire, heads kept in memory
            (TrustChainBlock.create, sign, pack);
  validate  unpacking each half-block from the wire and validating it against an in-memory database that holds the
            history before it (TrustChainBlock.validate); storing it is not timed;
  memory    unpacking, validating and storing, as TrustChainCommunity.validate_persist_block does, into an
            in-memory database (sqlite ":memory:");
  disk      the same into an sqlite file as py-ipv8 sets it up (WAL, synchronous NORMAL, a commit per block).
It exits at the end of its input.
"""
import json
import os
import sys
import tempfile
import time


def load_ipv8(argv):
    path = os.environ.get('PYIPV8_PATH')
    if '--ipv8' in argv:
        path = argv[argv.index('--ipv8') + 1]
    if path:
        sys.path.insert(0, os.path.abspath(path))
    version = 'unknown'
    try:
        from importlib.metadata import version as installed_version
        version = installed_version('pyipv8')
    except Exception:
        pass
    if path:
        try:
            with open(os.path.join(path, 'setup.py')) as setup:
                for line in setup:
                    if 'version=' in line:
                        version = line.split("'")[1]
                        break
        except OSError:
            pass
    return path, version


IPV8_PATH, IPV8_VERSION = load_ipv8(sys.argv)

try:
    import libnacl  # noqa: E402
    from ipv8.attestation.trustchain.block import TrustChainBlock, ValidationResult  # noqa: E402
    from ipv8.attestation.trustchain.database import TrustChainDB  # noqa: E402
    from ipv8.attestation.trustchain.payload import HalfBlockPayload  # noqa: E402
    from ipv8.keyvault.crypto import default_eccrypto  # noqa: E402
    from ipv8.messaging.serialization import default_serializer  # noqa: E402
except ImportError as missing:
    # The benchmark reads this line and says why the peer was skipped.
    print(json.dumps({'ready': False, 'python': sys.executable, 'ipv8Path': IPV8_PATH,
                      'reason': 'cannot import %s (%s)' % (missing.name, missing)}), flush=True)
    sys.exit(3)


class MemoryHeads(object):
    """What TrustChainBlock.create asks of a database, from memory: each chain's newest block."""

    def __init__(self):
        self.latest = {}

    def get_latest(self, public_key, block_type=None):
        return self.latest.get(public_key)


class Workload(object):
    def __init__(self, spec):
        self.keys = [default_eccrypto.generate_key(u'curve25519') for _ in range(spec['peers'])]
        self.public_keys = [key.pub().key_to_bin() for key in self.keys]
        self.pairs = spec['pairs']

    def create(self):
        """The history, built and signed, in the order a node receives it (each proposal, then its agreement)."""
        heads = MemoryHeads()
        balances = [1000000000] * len(self.keys)
        blocks = []
        for proposer, counterparty, amount in self.pairs:
            balances[proposer] -= amount
            proposal = TrustChainBlock.create(b'tx', {b'amount': amount, b'balance': balances[proposer]}, heads,
                                              self.public_keys[proposer], link_pk=self.public_keys[counterparty])
            proposal.sign(self.keys[proposer])
            heads.latest[proposal.public_key] = proposal
            balances[counterparty] += amount
            agreement = TrustChainBlock.create(b'tx', None, heads, self.public_keys[counterparty], link=proposal,
                                               additional_info={b'amount': amount,
                                                                b'balance': balances[counterparty]})
            agreement.sign(self.keys[counterparty])
            heads.latest[agreement.public_key] = agreement
            blocks.append(proposal.pack())
            blocks.append(agreement.pack())
        return blocks


def received(data):
    """A half-block as the community reads it off the wire."""
    payload, _ = default_serializer.unpack_serializable(HalfBlockPayload, data)
    return TrustChainBlock.from_payload(payload, default_serializer)


def rate(count, seconds):
    return count / seconds if seconds > 0 else float('nan')


def run_create(workload):
    start = time.perf_counter()
    blocks = workload.create()
    return rate(len(blocks), time.perf_counter() - start), blocks


def run_raw(wire):
    signed = []
    for data in wire:
        block = received(data)
        signed.append((block.signature, block.pack(signature=False), block.public_key[42:74]))
    start = time.perf_counter()
    for signature, message, verify_key in signed:
        libnacl.crypto_sign_verify_detached(signature, message, verify_key)
    return rate(len(signed), time.perf_counter() - start)


def check(validation, block):
    if validation[0] == ValidationResult.invalid:
        raise RuntimeError('py-ipv8 found a block of the workload invalid: %s (%s)' % (validation[1], block))


def run_validate(wire):
    database = TrustChainDB(u':memory:', u'bench')
    spent = 0.0
    for data in wire:
        start = time.perf_counter()
        block = received(data)
        validation = block.validate(database)
        spent += time.perf_counter() - start
        check(validation, block)
        database.add_block(block)
    database.close()
    return rate(len(wire), spent)


def validate_persist(database, block):
    """TrustChainCommunity.validate_persist_block, without a community around it."""
    validation = block.validate(database)
    if validation[0] != ValidationResult.invalid and not database.contains(block):
        database.add_block(block)
    return validation


def run_store(wire, directory):
    database = TrustChainDB(directory, u'bench')
    start = time.perf_counter()
    for data in wire:
        block = received(data)
        check(validate_persist(database, block), block)
    seconds = time.perf_counter() - start
    database.close()
    return rate(len(wire), seconds)


def describe():
    import platform
    import sqlite3
    import ctypes
    libnacl.nacl.sodium_version_string.restype = ctypes.c_char_p
    return {
        'ready': True,
        'ipv8': IPV8_VERSION,
        'ipv8Path': IPV8_PATH,
        'python': platform.python_version(),
        'sqlite': sqlite3.sqlite_version,
        'libsodium': libnacl.nacl.sodium_version_string().decode(),
    }


def main():
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    with open(sys.argv[1]) as spec:
        workload = Workload(json.load(spec))
    workload.create()  # warm-up
    print(json.dumps(describe()), flush=True)
    for line in sys.stdin:
        if line.strip() != 'round':
            continue
        create, wire = run_create(workload)
        result = {'blocks': len(wire), 'raw': run_raw(wire), 'create': create, 'validate': run_validate(wire),
                  'memory': run_store(wire, u':memory:')}
        with tempfile.TemporaryDirectory(prefix='py-ipv8-bench-') as directory:
            result['disk'] = run_store(wire, directory)
        print(json.dumps(result), flush=True)


if __name__ == '__main__':
    main()
