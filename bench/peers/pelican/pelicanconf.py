# Minimal Pelican site for the benchmark: one page per event, per actor, per tag, an index.
# Actors are Pelican authors; their profiles are pages at actors/<slug>/profile/.
SITENAME = "Synthetic timeline"
SITEURL = ""
PATH = "content"
ARTICLE_PATHS = ["events"]
PAGE_PATHS = ["actors"]
THEME = "theme"
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
DEFAULT_PAGINATION = False
USE_FOLDER_AS_CATEGORY = False
DEFAULT_CATEGORY = "events"
ARTICLE_URL = "events/{slug}/"
ARTICLE_SAVE_AS = "events/{slug}/index.html"
AUTHOR_URL = "actors/{slug}/"
AUTHOR_SAVE_AS = "actors/{slug}/index.html"
TAG_URL = "tags/{slug}/"
TAG_SAVE_AS = "tags/{slug}/index.html"
PAGE_URL = "actors/{slug}/profile/"
PAGE_SAVE_AS = "actors/{slug}/profile/index.html"
DIRECT_TEMPLATES = ["index"]
CATEGORY_SAVE_AS = CATEGORIES_SAVE_AS = AUTHORS_SAVE_AS = TAGS_SAVE_AS = ""
ARCHIVES_SAVE_AS = YEAR_ARCHIVE_SAVE_AS = MONTH_ARCHIVE_SAVE_AS = DAY_ARCHIVE_SAVE_AS = ""
FEED_ALL_ATOM = FEED_ALL_RSS = CATEGORY_FEED_ATOM = TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = AUTHOR_FEED_RSS = None
# Pelican's own cache, so a warm rebuild gets what the other tools get.
CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True
CACHE_PATH = "cache"
