# SceneMatch — two commands do everything on a fresh clone: `make run`, `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint bench clean demo dist dist-test

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "SceneMatch needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/scenematch gui

lint: $(STAMP)
	$(BIN)/ruff check core matching gui cli resources tests bench
	$(BIN)/mypy core matching cli

test: lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m bench

# A one-folder PyInstaller build in dist/scenematch/ (PyInstaller is a build tool, not a
# dependency of the app: it is installed here only).
dist: $(STAMP)
	$(BIN)/python -m pip install --quiet "pyinstaller>=6.6"
	$(BIN)/pyinstaller --noconfirm --clean --log-level WARN build.spec
	@du -sh dist/scenematch

# Build, then run the frozen self-test (window offscreen, demo, match, PDF).
dist-test: dist
	QT_QPA_PLATFORM=offscreen dist/scenematch/scenematch --self-test

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
