"""The seed captures are the project's fixtures: byte for byte what ../shared/seeds holds."""
import hashlib
from pathlib import Path

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SHA256 = {
    "000_43984f3adc3ca92a.txt": "074945d90e354455a42d9b5cae915198c0287e38460c83798f244ebeef82653d",
    "001_4e90a411367dfbcd.txt": "b2b929db4091debe8e6f5507649305dbafa493110cb8a311c81e3650e127f047",
    "002_0b974f7732c5c1a1.txt": "7cd01722783090498121ac9488d25a756b4c78dca2d48de96d65ebb7dddcde8b",
    "003_a4a49a47fefe88cc.txt": "146819762c220aa7eac6edc79e719875485efe3e41dfc25ff5c06cefc5e60f38",
    "004_198301c5cde20c0b.txt": "abb0736532f230e6a4c430d4b65cae853f968da2abf47f441acca6ba167e2d79",
}


def test_seed_files_are_intact():
    assert sorted(p.name for p in SEEDS.glob("0*.txt")) == sorted(SHA256)
    for name, digest in SHA256.items():
        assert hashlib.sha256((SEEDS / name).read_bytes()).hexdigest() == digest, name


def test_seeds_match_shared_copy_when_present():
    shared = SEEDS.parent.parent / "shared" / "seeds"
    if not shared.is_dir():
        return  # a clone without ../shared: the hashes above are the check
    for name in SHA256:
        assert (shared / name).read_bytes() == (SEEDS / name).read_bytes()
