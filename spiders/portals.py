"""One spider per portal of crawler/portals.toml: configuration only, no code per portal."""
from crawler.portals import portals
from spiders.base import FAMILIES

for _key, _portal in portals().items():
    _cls = type(f"{_key.title().replace('_', '')}Spider", (FAMILIES[_portal.pagination],),
                {"name": _key, "portal": _portal, "__module__": __name__,
                 "__doc__": f"{_portal.name} ({_portal.base}), {_portal.family} family."})
    globals()[_cls.__name__] = _cls

del _key, _portal, _cls
