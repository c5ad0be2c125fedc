"""Every setting in one typed place: :class:`Settings`, built once per process.

Precedence (DESIGN.md): defaults < the config file < ``PAPERSIFT_*`` environment variables <
command-line options. The file is ``--config PATH`` / ``PAPERSIFT_CONFIG``, else
``./papersift.toml`` when it exists. Each setting is a key of the file (top level, or in
``[smtp]``, ``[digest]``, ``[schedule]``) and a variable named after it: ``PAPERSIFT_<KEY>``, or
``PAPERSIFT_<SECTION>_<KEY>`` (``PAPERSIFT_SMTP_HOST``). Lists in the environment are comma
separated. A bad value is a :class:`BadInput` that names the key, so ``papersift`` exits 2 with one
line. docs/CONFIGURATION.md's table is generated from the declarations
(``python -m papersift.config --doc docs/CONFIGURATION.md``; a test keeps it current).

The parts: ``settings.py`` declares every setting (type, default, one line of help); ``load.py``
reads them (defaults, file, environment, options) and hands them to worker processes;
``checks.py`` says what a good value is; ``doc.py`` writes the table.

The command line, the server and its workers build one ``Settings`` and hand it down (to
``Papersift`` and ``create_app``); nothing below reads the environment for itself. Library code
called without one (a lower layer used on its own) asks :func:`environment_value`, so even then the
variable is parsed here, by its declaration.
"""

from papersift.config.checks import parse_time, validate
from papersift.config.load import (
    environment_value,
    from_parent,
    hand_to_workers,
    index_dir_setting,
    load_settings,
)
from papersift.config.settings import (
    CONFIG_ENV,
    DEFAULT_FILE,
    HANDOFF_ENV,
    INDEX_DIR_ENV,
    SECTIONS,
    WEEKDAYS,
    DigestSettings,
    ScheduleSettings,
    Settings,
    SMTPSettings,
    declared,
    env_name,
)

__all__ = ["Settings", "SMTPSettings", "DigestSettings", "ScheduleSettings", "SECTIONS", "load_settings",
           "environment_value", "index_dir_setting", "hand_to_workers", "from_parent", "parse_time", "validate",
           "declared", "env_name", "CONFIG_ENV", "DEFAULT_FILE", "HANDOFF_ENV", "INDEX_DIR_ENV", "WEEKDAYS"]
