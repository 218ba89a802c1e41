# The access, user and group functions of the authentication tests (test_auth_scripts.py).
# Users: alice (admins, staff), bob (staff); user 'crash', or X-Decision: crash, makes a
# function raise; 'renamed'
# answers with another user name; 'where' passes only in the Apache child, with the
# environ mod_wsgi gives these scripts.
import hashlib

USERS = {'alice': 'wonderland', 'bob': 'builder'}
GROUPS = {'alice': ['admins', 'staff'], 'bob': ['staff']}


def check_password(environ, user, password):
    if user == 'crash':
        raise RuntimeError('check_password failed on purpose')
    if user == 'renamed':
        return 'someone-else'
    if user == 'where':
        import mod_wsgi
        environ['wsgi.errors'].write('check_password ran in process group %r\n' % mod_wsgi.process_group)
        return (mod_wsgi.process_group == '' and environ['mod_wsgi.process_group'] == ''
                and environ['mod_wsgi.application_group'] == '' and 'HTTP_AUTHORIZATION' not in environ
                and 'wsgi.input' not in environ and environ['REQUEST_METHOD'] == 'GET')
    if user == 'badtype':
        return 42
    if user not in USERS:
        return None
    return USERS[user] == password


def get_realm_hash(environ, user, realm):
    if user not in USERS:
        return None
    return hashlib.md5(('%s:%s:%s' % (user, realm, USERS[user])).encode()).hexdigest()


def groups_for_user(environ, user):
    if environ.get('HTTP_X_DECISION') == 'crash':
        raise RuntimeError('groups_for_user failed on purpose')
    return GROUPS.get(user, [])


def allow_access(environ, host):
    decision = environ.get('HTTP_X_DECISION')
    if decision == 'crash':
        raise RuntimeError('allow_access failed on purpose')
    if decision == 'host':
        return host == '127.0.0.1'
    return {'allow': True, 'deny': False}.get(decision)
