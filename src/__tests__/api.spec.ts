import { authHeaders, uploadUrl, xsrfCookie } from '../api/client';

describe('upload authentication', () => {
  it('reads the last _xsrf cookie, as ServerConnection does', () => {
    expect(xsrfCookie('a=1; _xsrf=first; b=2; _xsrf=second')).toBe('second');
    expect(xsrfCookie('a=1')).toBeUndefined();
    expect(xsrfCookie('')).toBeUndefined();
  });

  it('sends the token and the XSRF cookie', () => {
    expect(authHeaders({ token: 'abc' }, '_xsrf=2|xyz')).toEqual({
      Authorization: 'token abc',
      'X-XSRFToken': '2|xyz'
    });
  });

  it('sends neither when there is none', () => {
    expect(authHeaders({ token: '' }, 'other=1')).toEqual({});
  });
});

describe('the upload URL', () => {
  it('builds the upload URL with the folder and the name encoded', () => {
    expect(uploadUrl('http://h/base/', 'my data', 'a b&c.csv')).toBe(
      'http://h/base/nbchat/files/upload?dir=my%20data&name=a%20b%26c.csv'
    );
  });

  it('uploads into the root with an empty dir', () => {
    expect(uploadUrl('/', '', 'shoes.csv')).toBe(
      '/nbchat/files/upload?dir=&name=shoes.csv'
    );
  });

  it('adds the context level when given', () => {
    expect(uploadUrl('/', 'd', 'x.csv', 'schema')).toBe(
      '/nbchat/files/upload?dir=d&name=x.csv&level=schema'
    );
  });
});
