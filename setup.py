"""What pyproject.toml cannot say: the top-level ``conf/`` ships inside the wheel as the package ``asr_cnn.conf``.

The rest of the packaging is in pyproject.toml. Each config group (``conf/model/``, ...) is listed as a
package too, so setuptools does not warn that it leaves an importable folder out.
"""

from setuptools import find_namespace_packages, setup

CONF = ["asr_cnn.conf", *(f"asr_cnn.conf.{group}" for group in find_namespace_packages("conf"))]

setup(packages=[*find_namespace_packages(include=["asr_cnn*"]), *CONF], package_dir={"asr_cnn.conf": "conf"})
