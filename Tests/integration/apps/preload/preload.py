# Loaded by WSGIImportScript before any request: leaves a mark the app can see.
import builtins
import os

builtins.SWSGI_TEST_PRELOADED_BY = os.getpid()
