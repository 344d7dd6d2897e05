"""Entry point: `flask --app app …` and `gunicorn app:app` find the application here."""
import gc

# Building the app makes about 185,000 objects (modules, classes, the mappers, the URL map) that live as long as the
# process: the cyclic collector is paused while they are made (it would walk them again and again for nothing,
# a tenth of every command's and worker's start), then they are set aside (gc.freeze), so that the collections a
# worker makes while serving walk only what its requests made. Not in create_app: the tests build many apps, and
# what is frozen is never freed. The collector is as it was however the start ends (a start that fails leaves a
# process that may go on: `flask --help` lists the built-in commands after saying why the app did not load).
_collecting = gc.isenabled()
gc.disable()
try:
    from dissuasion import create_app

    app = create_app()
    gc.freeze()
finally:
    if _collecting:
        gc.enable()
