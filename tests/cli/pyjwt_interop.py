#!/usr/bin/env python3
"""Interoperability of the jwtkit tool with PyJWT, driven by ctest.

    pyjwt_interop.py --jwtkit PATH --workdir DIR jwtkit-to-pyjwt
        keys made by `jwtkit keygen`, tokens by `jwtkit sign`; PyJWT verifies them with the
        JWKs (and PEMs, and the JWKS) that `jwtkit pubkey` / `jwtkit jwks` export.
    pyjwt_interop.py --jwtkit PATH --workdir DIR pyjwt-to-jwtkit
        keys made by pyca/cryptography, tokens by PyJWT; `jwtkit verify` verifies them with
        the JWKs PyJWT exports (and SPKI PEMs), and `jwtkit sign` signs with PyJWT's private
        JWKs for PyJWT to verify.

Every algorithm PyJWT supports is covered (with cryptography: HS*, RS*, PS*, ES*, EdDSA).
Exit 0 when every check passed, 1 otherwise. When PyJWT or cryptography is missing, exit 77
(ctest: skipped), except under CI=true, where that is a failure.
"""

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import time

SKIP = 77
ISSUER = "https://issuer.example"
AUDIENCE = "api"
JWTKIT_ALGS = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384",
               "PS512", "ES256", "ES384", "ES512", "EdDSA"]
# Coordinate (and private scalar) sizes of the NIST curves, RFC 7518 section 6.2.1.2.
EC_SIZES = {"P-256": 32, "P-384": 48, "P-521": 66}


def import_pyjwt():
    """PyJWT and cryptography, or None. Debian installs them for the system interpreter,
    which may not be the python3 first on PATH: then this script re-runs itself with it."""
    try:
        import jwt  # noqa: F401
        import cryptography  # noqa: F401
        return jwt
    except ImportError as e:
        reason = str(e)
    system_python = "/usr/bin/python3"
    if (os.environ.get("JWTKIT_PYJWT_REEXEC") != "1" and os.access(system_python, os.X_OK)
            and os.path.realpath(system_python) != os.path.realpath(sys.executable)):
        os.environ["JWTKIT_PYJWT_REEXEC"] = "1"
        os.execv(system_python, [system_python] + sys.argv)
    print(f"PyJWT interop: {reason} (Debian: python3-jwt python3-cryptography)", file=sys.stderr)
    return None


class Checks:
    """Counts checks; a failed check is reported and the run goes on."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {what}")
        else:
            self.failed += 1
            print(f"FAIL {what}" + (f"\n     {detail}" if detail else ""))
        return ok


class Tool:
    def __init__(self, path, workdir):
        self.path = path
        self.workdir = workdir

    def file(self, name):
        return os.path.join(self.workdir, name)

    def write(self, name, text):
        path = self.file(name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def run(self, *args, stdin=""):
        p = subprocess.run([self.path, *args], input=stdin, capture_output=True, text=True,
                           timeout=60)
        return p.returncode, p.stdout, p.stderr

    def ok(self, *args):
        rc, out, err = self.run(*args)
        if rc != 0:
            raise RuntimeError(f"jwtkit {' '.join(args)} exited {rc}: {err.strip()}")
        return out


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def full_size_ec_jwk(jwk):
    """PyJWT 2.6 writes EC members as minimal big-endian integers; RFC 7518 6.2.1.2 and
    6.2.2.1 require the full size (which jwtkit insists on). Left-pad them."""
    size = EC_SIZES.get(jwk.get("crv"))
    if jwk.get("kty") != "EC" or size is None:
        return jwk
    fixed = dict(jwk)
    for member in ("x", "y", "d"):
        if member in fixed:
            raw = b64u_decode(fixed[member])
            fixed[member] = b64u(raw.rjust(size, b"\0"))
    return fixed


def tamper(token):
    head, payload, sig = token.split(".")
    i = 2
    sig = sig[:i] + ("A" if sig[i] != "A" else "B") + sig[i + 1:]
    return ".".join([head, payload, sig])


def claims_at(now, alg):
    return {
        "iss": ISSUER, "sub": "user-" + alg, "aud": AUDIENCE, "iat": now, "nbf": now,
        "exp": now + 600, "jti": "jti-" + alg, "scope": "read write",
        "name": "Zoë \u2713", "roles": ["admin", "ops"], "ctx": {"n": 1, "ok": True},
    }


def supported_algs(jwt):
    known = set(jwt.algorithms.get_default_algorithms())
    return [a for a in JWTKIT_ALGS if a in known]


def jwtkit_to_pyjwt(jwt, tool, checks, now):
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    algs = supported_algs(jwt)
    checks.check(algs == JWTKIT_ALGS, "PyJWT supports every jwtkit algorithm",
                 f"PyJWT lacks {sorted(set(JWTKIT_ALGS) - set(algs))}")
    asymmetric = []
    tokens = {}
    for alg in algs:
        claims = claims_at(now, alg)
        priv = tool.file(f"{alg}.jwk")
        tool.ok("keygen", "--alg", alg, "--jwk", "--out", priv)
        if alg.startswith("HS"):
            jwk = json.loads(open(priv, encoding="utf-8").read())
        else:
            jwk = json.loads(tool.ok("pubkey", "--key", priv, "--jwk"))
            asymmetric.append(priv)
        token = tool.ok("sign", "--key", priv, "--alg", alg, "--claims", json.dumps(claims)).strip()
        tokens[alg] = (token, claims)

        key = jwt.PyJWK(jwk)
        try:
            got = jwt.decode(token, key.key, algorithms=[alg], audience=AUDIENCE, issuer=ISSUER)
            checks.check(got == claims, f"{alg}: jwtkit token verifies in PyJWT (jwtkit's JWK)",
                         f"claims differ: {got}")
        except Exception as e:  # noqa: BLE001 - report any PyJWT refusal as a failed check
            checks.check(False, f"{alg}: jwtkit token verifies in PyJWT (jwtkit's JWK)", repr(e))
        header = jwt.get_unverified_header(token)
        checks.check(header.get("alg") == alg and header.get("kid") == jwk.get("kid"),
                     f"{alg}: header names alg and the JWK's kid", str(header))
        try:
            jwt.decode(tamper(token), key.key, algorithms=[alg], audience=AUDIENCE)
            checks.check(False, f"{alg}: PyJWT rejects the tampered token")
        except jwt.InvalidSignatureError:
            checks.check(True, f"{alg}: PyJWT rejects the tampered token")

        if not alg.startswith("HS"):
            pem = tool.ok("pubkey", "--key", priv)
            try:
                got = jwt.decode(token, load_pem_public_key(pem.encode()), algorithms=[alg],
                                 audience=AUDIENCE, issuer=ISSUER)
                checks.check(got == claims, f"{alg}: verifies in PyJWT with jwtkit's SPKI PEM")
            except Exception as e:  # noqa: BLE001
                checks.check(False, f"{alg}: verifies in PyJWT with jwtkit's SPKI PEM", repr(e))

    # One JWKS for every asymmetric key: PyJWT picks each token's key by kid.
    jwks_args = []
    for path in asymmetric:
        jwks_args += ["--key", path]
    jwks = jwt.PyJWKSet.from_json(tool.ok("jwks", *jwks_args))
    by_kid = {k.key_id: k for k in jwks.keys}
    for alg, (token, claims) in tokens.items():
        if alg.startswith("HS"):
            continue
        kid = jwt.get_unverified_header(token).get("kid")
        try:
            got = jwt.decode(token, by_kid[kid].key, algorithms=[alg], audience=AUDIENCE)
            checks.check(got == claims, f"{alg}: verifies in PyJWT through jwtkit's JWKS")
        except Exception as e:  # noqa: BLE001
            checks.check(False, f"{alg}: verifies in PyJWT through jwtkit's JWKS", repr(e))


def make_pyjwt_key(alg):
    """A private key object (or HMAC secret bytes) for `alg`, made by cryptography."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if alg.startswith("HS"):
        return os.urandom(64)
    if alg[:2] in ("RS", "PS"):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    curve = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}[alg]
    return ec.generate_private_key(curve())


def pyjwt_to_jwtkit(jwt, tool, checks, now):
    from cryptography.hazmat.primitives import serialization

    algs = supported_algs(jwt)
    checks.check(algs == JWTKIT_ALGS, "PyJWT supports every jwtkit algorithm",
                 f"PyJWT lacks {sorted(set(JWTKIT_ALGS) - set(algs))}")
    registry = jwt.algorithms.get_default_algorithms()
    jwks = {"keys": []}
    tokens = {}
    for alg in algs:
        claims = claims_at(now, alg)
        kid = "pyjwt-" + alg
        private = make_pyjwt_key(alg)
        public = private if alg.startswith("HS") else private.public_key()
        algorithm = registry[alg]

        jwk = full_size_ec_jwk(json.loads(algorithm.to_jwk(public)))
        jwk["kid"] = kid
        pub_file = tool.write(f"{alg}.pyjwt.jwk", json.dumps(jwk))
        token = jwt.encode(claims, private, algorithm=alg, headers={"kid": kid})
        tokens[alg] = (token, claims)

        args = ["verify", "--key", pub_file, "--alg", alg, "--now", str(now), "--iss", ISSUER,
                "--aud", AUDIENCE, token]
        rc, out, err = tool.run(*args)
        checks.check(rc == 0 and json.loads(out or "null") == claims,
                     f"{alg}: PyJWT token verifies with jwtkit verify (PyJWT's JWK)",
                     f"exit {rc}: {err.strip()}")
        rc, out, err = tool.run("verify", "--key", pub_file, "--alg", alg, "--now", str(now),
                                tamper(token))
        checks.check(rc == 1 and err.startswith("error: bad_signature: "),
                     f"{alg}: jwtkit rejects the tampered PyJWT token (bad_signature)",
                     f"exit {rc}: {err.strip()}")

        if not alg.startswith("HS"):
            jwks["keys"].append(jwk)
            pem = public.public_bytes(serialization.Encoding.PEM,
                                      serialization.PublicFormat.SubjectPublicKeyInfo).decode()
            pem_file = tool.write(f"{alg}.pyjwt.pem", pem)
            # A PEM key's kid is its thumbprint, so the token must name no other kid.
            no_kid = jwt.encode(claims, private, algorithm=alg)
            rc, out, err = tool.run("verify", "--key", pem_file, "--alg", alg, "--now", str(now),
                                    no_kid)
            checks.check(rc == 0 and json.loads(out or "null") == claims,
                         f"{alg}: PyJWT token verifies with cryptography's SPKI PEM",
                         f"exit {rc}: {err.strip()}")

        # The other way round with PyJWT's private JWK: jwtkit signs, PyJWT verifies.
        private_jwk = full_size_ec_jwk(json.loads(algorithm.to_jwk(private)))
        private_jwk["kid"] = kid
        priv_file = tool.write(f"{alg}.pyjwt.private.jwk", json.dumps(private_jwk))
        rc, out, err = tool.run("sign", "--key", priv_file, "--alg", alg, "--claims",
                                json.dumps(claims))
        if checks.check(rc == 0, f"{alg}: jwtkit signs with PyJWT's private JWK",
                        f"exit {rc}: {err.strip()}"):
            try:
                got = jwt.decode(out.strip(), public, algorithms=[alg], audience=AUDIENCE,
                                 issuer=ISSUER)
                checks.check(got == claims, f"{alg}: ... and PyJWT verifies that token")
            except Exception as e:  # noqa: BLE001
                checks.check(False, f"{alg}: ... and PyJWT verifies that token", repr(e))

    # One JWKS of PyJWT's public keys: jwtkit picks each token's key by kid.
    jwks_file = tool.write("pyjwt.jwks.json", json.dumps(jwks))
    for alg, (token, claims) in tokens.items():
        if alg.startswith("HS"):
            continue
        rc, out, err = tool.run("verify", "--jwks", jwks_file, "--alg", ",".join(algs), "--now",
                                str(now), token)
        checks.check(rc == 0 and json.loads(out or "null") == claims,
                     f"{alg}: PyJWT token verifies with jwtkit through PyJWT's JWKS",
                     f"exit {rc}: {err.strip()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jwtkit", required=True, help="path of the built jwtkit tool")
    parser.add_argument("--workdir", required=True, help="scratch directory")
    parser.add_argument("direction", choices=["jwtkit-to-pyjwt", "pyjwt-to-jwtkit"])
    args = parser.parse_args()

    jwt = import_pyjwt()
    if jwt is None:
        if os.environ.get("CI") == "true":
            print("PyJWT interop: CI=true, so missing packages are a failure", file=sys.stderr)
            return 1
        print("PyJWT interop: skipped", file=sys.stderr)
        return SKIP
    print(f"PyJWT {jwt.__version__} on Python {sys.version.split()[0]}")

    workdir = os.path.join(args.workdir, args.direction)
    shutil.rmtree(workdir, ignore_errors=True)  # a fresh scratch dir: keygen never overwrites
    os.makedirs(workdir)
    tool = Tool(args.jwtkit, workdir)
    checks = Checks()
    # PyJWT reads the wall clock; jwtkit is pinned to the same second with --now.
    now = int(time.time())
    try:
        if args.direction == "jwtkit-to-pyjwt":
            jwtkit_to_pyjwt(jwt, tool, checks, now)
        else:
            pyjwt_to_jwtkit(jwt, tool, checks, now)
    except Exception as e:  # noqa: BLE001 - an unexpected error fails the run, visibly
        checks.check(False, "the run completed", repr(e))
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 0 if checks.failed == 0 and checks.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
