"""Helpers for the Connect tests (test_connect_*.py, test_export_pprof.py, ...): a few lines
of protobuf wire format to write requests and read answers without generated code, and
`rpc` for POST /querier.v1.QuerierService/<Method>. Stdlib only."""

import json
import struct

Q = "/querier.v1.QuerierService/"
JSON = {"Content-Type": "application/json"}
PROTO = {"Content-Type": "application/proto"}


def rpc(server, method, body, headers=JSON, tenant=None):
    """POST a Connect unary request; body may be bytes or a dict (sent as JSON)."""
    if isinstance(body, dict):
        body = json.dumps(body).encode()
    h = dict(headers)
    if tenant is not None:
        h["X-Scope-OrgID"] = tenant
    return server.post(Q + method, body, h)


def rpc_json(server, method, body, tenant=None):
    """A JSON call that must succeed; returns the decoded answer."""
    r = rpc(server, method, body, JSON, tenant)
    assert r.status == 200, "%s: %r" % (method, r)
    return r.json()


def varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def f_varint(num, v):
    return varint(num << 3) + varint(v)


def f_bytes(num, data):
    if isinstance(data, str):
        data = data.encode()
    return varint((num << 3) | 2) + varint(len(data)) + data


def f_double(num, v):
    return varint((num << 3) | 1) + struct.pack("<d", v)


def pb_decode(data):
    """[(field, wire type, value)]: ints for varints, bytes for length-delimited."""
    out, i = [], 0
    while i < len(data):
        key, i = _read_varint(data, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _read_varint(data, i)
        elif wt == 2:
            n, i = _read_varint(data, i)
            v, i = data[i:i + n], i + n
            assert len(v) == n, "truncated"
        elif wt == 1:
            v, i = data[i:i + 8], i + 8
        elif wt == 5:
            v, i = data[i:i + 4], i + 4
        else:
            raise AssertionError("wire type %d" % wt)
        out.append((num, wt, v))
    return out


def _read_varint(data, i):
    v = shift = 0
    while True:
        b = data[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i


def fields(data, num):
    return [v for n, _, v in pb_decode(data) if n == num]


def packed_ints(data):
    out, i = [], 0
    while i < len(data):
        v, i = _read_varint(data, i)
        out.append(v - (1 << 64) if v >= 1 << 63 else v)
    return out
