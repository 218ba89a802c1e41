# Fails to import: preloading it must not stop its process from serving other scripts.
raise RuntimeError("this script cannot be imported")
