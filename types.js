'use strict';

// gosfu/types: mediasoup's 'mediasoup/types' holds types only; gosfu's also
// gives the runtime classes (for instanceof checks).
module.exports = require('./lib/types');
