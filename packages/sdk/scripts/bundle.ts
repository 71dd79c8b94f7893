console.log('bundle todo')
