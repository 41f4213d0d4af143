// Secret-shaped test values, built at run time so that the repository holds nothing secret-shaped.
export const FAKE_GITHUB_TOKEN = ['ghp', '_', 'Zq8Tn3Lr5Vx1Bc7Hd2Jf6Kg9Mp4Ws0Ya3Ee1'].join('');
export const FAKE_SLACK_TOKEN = ['xoxb', '-', '1234567890', '-', '1234567890123', '-', 'AbCdEfGhIjKlMnOpQrStUvWx'].join('');
