#!/usr/bin/env python3
"""A stand-in for the company IdP: keys made and tokens signed by the openssl command line, so the
tests check muse-internal's verifier against an implementation that is not its own.

keys DIR: makes rsa.pem (RSA 2048), ec.pem (P-256), ed.pem (Ed25519), attacker.pem (another RSA
key) and jwks.json with the three public keys (kids rsa-1, ec-1, ed-1; alg RS256, ES256, EdDSA).
token DIR ISSUER AUDIENCE SECONDS: prints a valid RS256 token that expires in SECONDS.
corpus DIR ISSUER AUDIENCE SKEW_S: prints a JSON object, name -> {"token": ..., "accept": bool}:
valid tokens for each key and one expired but within the skew, then the attacks.
"""
import base64, hashlib, hmac, json, os, subprocess, sys, time


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout


def keys(d):
    os.makedirs(d, exist_ok=True)
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", f"{d}/rsa.pem")
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", f"{d}/attacker.pem")
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", f"{d}/ec.pem")
    openssl("genpkey", "-algorithm", "ED25519", "-out", f"{d}/ed.pem")
    openssl("pkey", "-in", f"{d}/rsa.pem", "-pubout", "-out", f"{d}/rsa-pub.pem")
    modulus = bytes.fromhex(openssl("rsa", "-in", f"{d}/rsa.pem", "-noout", "-modulus").decode().strip().split("=", 1)[1])
    ec_point = openssl("pkey", "-in", f"{d}/ec.pem", "-pubout", "-outform", "DER")[-65:]
    ed_public = openssl("pkey", "-in", f"{d}/ed.pem", "-pubout", "-outform", "DER")[-32:]
    jwks = {"keys": [
        {"kty": "RSA", "kid": "rsa-1", "alg": "RS256", "use": "sig", "n": b64(modulus), "e": b64((65537).to_bytes(3, "big"))},
        {"kty": "EC", "kid": "ec-1", "alg": "ES256", "use": "sig", "crv": "P-256", "x": b64(ec_point[1:33]), "y": b64(ec_point[33:])},
        {"kty": "OKP", "kid": "ed-1", "alg": "EdDSA", "use": "sig", "crv": "Ed25519", "x": b64(ed_public)},
    ]}
    with open(f"{d}/jwks.json", "w") as f:
        json.dump(jwks, f)


def der_to_raw(der):
    """An ECDSA signature from openssl's DER (SEQUENCE of two INTEGERs) to JOSE's r || s."""
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 3
    parts = []
    for _ in range(2):
        assert der[i] == 0x02
        length = der[i + 1]
        parts.append(int.from_bytes(der[i + 2:i + 2 + length], "big").to_bytes(32, "big"))
        i += 2 + length
    return parts[0] + parts[1]


def sign(d, header, claims, key):
    signing_input = (b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())).encode()
    if key == "none":
        signature = b""
    elif key in ("rsa", "attacker"):
        signature = openssl("dgst", "-sha256", "-sign", f"{d}/{key}.pem", data=signing_input)
    elif key == "ec":
        signature = der_to_raw(openssl("dgst", "-sha256", "-sign", f"{d}/ec.pem", data=signing_input))
    elif key == "ec-der":
        signature = openssl("dgst", "-sha256", "-sign", f"{d}/ec.pem", data=signing_input)
    elif key == "ed":
        with open(f"{d}/input", "wb") as f:
            f.write(signing_input)
        signature = openssl("pkeyutl", "-sign", "-inkey", f"{d}/ed.pem", "-rawin", "-in", f"{d}/input")
    elif key == "hmac-rsa-public":
        signature = hmac.new(open(f"{d}/rsa-pub.pem", "rb").read(), signing_input, hashlib.sha256).digest()
    else:
        raise SystemExit("unknown key " + key)
    return signing_input.decode() + "." + b64(signature)


def corpus(d, issuer, audience, skew):
    now = int(time.time())
    good = {"iss": issuer, "aud": audience, "sub": "alice", "name": "Alice", "email": "alice@example.com",
            "department": "design", "teams": ["design", "brand"], "iat": now, "exp": now + 3600}

    def token(key, alg, kid="rsa-1", typ="JWT", **changes):
        claims = {k: v for k, v in {**good, **changes}.items() if v is not None}
        header = {"alg": alg, "kid": kid}
        if typ is not None:
            header["typ"] = typ
        return sign(d, header, claims, key)

    valid = token("rsa", "RS256")
    middle = len(valid) - 100
    flipped = valid[:middle] + ("A" if valid[middle] != "A" else "B") + valid[middle + 1:]
    cases = {
        "valid RS256": (token("rsa", "RS256"), True),
        "valid ES256": (token("ec", "ES256", kid="ec-1"), True),
        "valid EdDSA": (token("ed", "EdDSA", kid="ed-1"), True),
        "valid without typ": (token("rsa", "RS256", typ=None), True),
        "expired within the skew": (token("rsa", "RS256", exp=now - skew + 30), True),
        "alg none": (token("none", "none"), False),
        "HS256 signed with the RSA public key as secret": (token("hmac-rsa-public", "HS256"), False),
        "unknown kid": (token("rsa", "RS256", kid="rsa-9"), False),
        "expired beyond the skew by 1 s": (token("rsa", "RS256", exp=now - skew - 1), False),
        "nbf in the future": (token("rsa", "RS256", nbf=now + skew + 3600), False),
        "wrong iss": (token("rsa", "RS256", iss="https://evil.example.com"), False),
        "wrong aud": (token("rsa", "RS256", aud="another-service"), False),
        "missing exp": (token("rsa", "RS256", exp=None), False),
        "bad signature": (flipped, False),
        "truncated": (valid[:-40], False),
        "wrong typ": (token("rsa", "RS256", typ="JWE"), False),
        "kid with path characters": (token("rsa", "RS256", kid="../../rsa-1"), False),
        "signed by another key under a known kid": (token("attacker", "RS256"), False),
        "ES256 header on the RSA key": (token("ec", "ES256", kid="rsa-1"), False),
        "ES256 signature in DER, not r||s": (token("ec-der", "ES256", kid="ec-1"), False),
        "no sub": (token("rsa", "RS256", sub=None), False),
    }
    print(json.dumps({name: {"token": t, "accept": accept} for name, (t, accept) in cases.items()}))


def short_lived(d, issuer, audience, seconds):
    now = int(time.time())
    claims = {"iss": issuer, "aud": audience, "sub": "alice", "iat": now, "exp": now + seconds}
    print(sign(d, {"alg": "RS256", "kid": "rsa-1", "typ": "JWT"}, claims, "rsa"))


if __name__ == "__main__":
    if sys.argv[1] == "keys":
        keys(sys.argv[2])
    elif sys.argv[1] == "token":
        short_lived(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif sys.argv[1] == "corpus":
        corpus(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
