# deploy/deploy.mk: make install and make check-unit (included by the Makefile).
#   make install [PREFIX=/usr/local] [SYSCONFDIR=/etc] [DESTDIR=/tmp/stage]
#     $(BINDIR)/epws, $(DATADIR)/web/ (the browser client), $(DOCDIR)/ (epws --help as text,
#     docs/deploy.md), $(SYSCONFDIR)/epws/epws.conf (the example, never over an existing one),
#     $(UNITDIR)/epws.service, each with its paths rewritten for PREFIX and SYSCONFDIR.
#   make check-unit: install into a scratch DESTDIR, then systemd-analyze verify the unit,
#     systemd-analyze security --offline (fails above EXPOSURE_MAX), epws --check-config on the
#     installed example.

PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share/epws
DOCDIR ?= $(PREFIX)/share/doc/epws
UNITDIR ?= $(PREFIX)/lib/systemd/system
# systemd-analyze's threshold is in tenths: 20 = an exposure of 2.0 (1.1 when last measured).
EXPOSURE_MAX ?= 20

# deploy/ files name the default paths; this rewrites them for the chosen ones.
DEPLOY_PATHS = sed -e 's|/usr/local/bin|$(BINDIR)|g' -e 's|/usr/local/share/doc/epws|$(DOCDIR)|g' \
                   -e 's|/usr/local/share/epws|$(DATADIR)|g' -e 's|/etc/epws|$(SYSCONFDIR)/epws|g'

.PHONY: install check-unit
install: $(SERVER)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/web $(DESTDIR)$(DOCDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/epws $(DESTDIR)$(UNITDIR)
	install -m 0755 $(SERVER) $(DESTDIR)$(BINDIR)/epws
	install -m 0644 web/*.html web/*.js web/*.css web/*.svg $(DESTDIR)$(DATADIR)/web/
	$(SERVER) --help > $(DESTDIR)$(DOCDIR)/epws-help.txt
	install -m 0644 docs/deploy.md $(DESTDIR)$(DOCDIR)/deploy.md
	test -e $(DESTDIR)$(SYSCONFDIR)/epws/epws.conf || \
	    $(DEPLOY_PATHS) deploy/epws.conf > $(DESTDIR)$(SYSCONFDIR)/epws/epws.conf
	$(DEPLOY_PATHS) deploy/epws.service > $(DESTDIR)$(UNITDIR)/epws.service

check-unit: $(SERVER)
	@set -e; stage=$$(mktemp -d); trap 'rm -rf "$$stage"' EXIT; \
	$(MAKE) --no-print-directory -s install DESTDIR="$$stage" PREFIX=/usr/local SYSCONFDIR=/etc; \
	unit="$$stage/epws.service"; \
	sed -e "s|/usr/local/bin/epws|$$stage/usr/local/bin/epws|g" \
	    "$$stage/usr/local/lib/systemd/system/epws.service" > "$$unit"; \
	systemd-analyze verify "$$unit"; echo "check-unit: systemd-analyze verify: ok"; \
	report=$$(systemd-analyze security --offline=true --threshold=$(EXPOSURE_MAX) "$$unit") || \
	    { echo "$$report"; echo "check-unit: exposure above $(EXPOSURE_MAX)/10"; exit 1; }; \
	echo "check-unit: $$(echo "$$report" | tail -n 1)"; \
	sed -e "s|/usr/local/share/epws|$$stage/usr/local/share/epws|" "$$stage/etc/epws/epws.conf" \
	    > "$$stage/epws.conf"; \
	"$$stage/usr/local/bin/epws" --config "$$stage/epws.conf" --check-config
