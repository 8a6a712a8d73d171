.PHONY: run setup test lint messages bench

run: setup  ## set up (quick when nothing changed) and run on embedded defaults
	AVATARFORGE_EMBEDDED=1 .venv/bin/python manage.py runembedded

setup:
	bash scripts/setup.sh

test:  ## the whole suite (CI runs this on PostgreSQL + Redis)
	bash scripts/test.sh

lint:
	.venv/bin/ruff check .

messages:  ## regenerate and compile translations (needs gettext)
	for app in . accounts characters rooms chat generation; do (cd $$app && ../.venv/bin/python ../manage.py makemessages -l ko -i '.venv/*' -i 'node_modules/*' -i 'static/dist/*' >/dev/null 2>&1 || true); done
	.venv/bin/python manage.py compilemessages -i .venv -i node_modules
