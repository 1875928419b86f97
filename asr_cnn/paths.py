"""Where the package's own files are: the Hydra config folder ships beside the package."""

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
CONF_DIR = PROJECT_DIR / "conf"
